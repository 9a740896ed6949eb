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

// Command pause is the pod sandbox's process (containerd's sandbox_image):
// it holds the pod's namespaces open until the runtime stops it with
// SIGTERM or SIGINT, then exits 0. It says on stderr once it is waiting,
// and which signal ended it. Build it static (CGO_ENABLED=0).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	fmt.Fprintln(os.Stderr, "pause: waiting for SIGTERM or SIGINT")
	fmt.Fprintln(os.Stderr, "pause: shutting down on", <-sig)
}
