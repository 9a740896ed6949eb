package memory_test

import (
	"testing"

	"github.com/authstack/authstack/authserver/store"
	"github.com/authstack/authstack/authserver/store/conformance"
	"github.com/authstack/authstack/authserver/store/memory"
)

func TestConformance(t *testing.T) {
	conformance.RunTests(t, func(*testing.T) store.Store { return memory.New() })
}
