// Command authstack is the Kubernetes-native OAuth 2.0 password-grant auth
// stack: token server, dev server and manager in one binary.
package main

import "github.com/authstack/authstack/cmd"

func main() { cmd.Execute() }
