package memory_test

import (
	"testing"

	"github.com/authstack/authstack/internal/store/conformance"
	"github.com/authstack/authstack/internal/store/memory"
)

func TestConformance(t *testing.T) {
	conformance.RunTests(t, func(*testing.T) conformance.Store { return memory.New() })
}
