/*
Copyright 2026 The authstack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package credentials_test

import (
	"testing"

	"github.com/authstack/authstack/internal/testing/testenv"
)

// env is one real kube-apiserver and etcd for the whole package (envtest),
// started in TestMain; each test gets its own namespace (env.Namespace).
var env testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }
