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
