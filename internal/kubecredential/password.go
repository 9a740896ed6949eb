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

package kubecredential

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// PasswordEnv is the environment variable a script or CI job gives the
// password in, instead of a prompt.
const PasswordEnv = "AUTHSTACK_PASSWORD"

// ttyPath is the controlling terminal: the prompt reads there, since
// stdout carries the ExecCredential and stdin may be anything.
const ttyPath = "/dev/tty"

// PasswordSource returns the password of PasswordEnv when set, else a
// prompt on the terminal (written to w, read without echo) when
// interactive is true, else an error that says what to do.
func PasswordSource(interactive bool, w io.Writer, prompt string) func() (string, error) {
	return func() (string, error) {
		if pw := os.Getenv(PasswordEnv); pw != "" {
			return pw, nil
		}
		if !interactive {
			return "", fmt.Errorf("a password is needed and kubectl runs without a terminal: set %s, or run kubectl in a terminal", PasswordEnv)
		}
		tty, err := os.OpenFile(ttyPath, os.O_RDWR, 0)
		if err != nil {
			return "", fmt.Errorf("a password is needed and there is no terminal to ask it on: set %s", PasswordEnv)
		}
		defer tty.Close()
		return ReadPassword(w, tty, prompt)
	}
}

// ReadPassword writes prompt to w and reads one line from in: without
// echo when in is a terminal. An empty password is an error.
func ReadPassword(w io.Writer, in io.Reader, prompt string) (string, error) {
	fmt.Fprint(w, prompt)
	pw, err := readLine(in)
	fmt.Fprintln(w)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if pw == "" {
		return "", errors.New("no password given")
	}
	return pw, nil
}

func readLine(in io.Reader) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		return string(b), err
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	// A last line without a newline is a line.
	if errors.Is(err, io.EOF) && line != "" {
		err = nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
