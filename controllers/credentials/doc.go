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

// Package credentials reconciles AuthUser and AuthClient resources into the
// credential store the token server reads.
//
// Kubernetes is the source of truth; the store holds what can be rebuilt
// from it. Each reconcile follows cluster-api's shape: fetch, ensure the
// finalizer, run small phase functions, then compute the Ready condition
// with a pure function and patch status once, only when it changed. Two
// loops beside the reconcilers repair what events cannot show: the epoch
// watcher (the store lost its data) and the orphan collector (a record
// whose resource is gone).
package credentials
