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

// ReadPassword asks for a password with prompt and reads one line. On a
// terminal (in is one), echo is off before the prompt shows, so nothing
// typed after it is echoed, however soon; elsewhere the prompt goes to w
// and the line is read as it comes. An empty password is an error.
func ReadPassword(w io.Writer, in io.Reader, prompt string) (string, error) {
	var pw string
	var err error
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		pw, err = readHidden(f, prompt)
	} else {
		fmt.Fprint(w, prompt)
		pw, err = readLine(in)
		fmt.Fprintln(w)
	}
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if pw == "" {
		return "", errors.New("no password given")
	}
	return pw, nil
}

// readHidden reads a line on the terminal tty without echo. The terminal
// is put in raw mode (no echo) first, then x/term's Terminal shows the
// prompt and reads the line, echoing nothing; Ctrl-C or Ctrl-D ends it
// (io.EOF). Turning echo off only while reading, after the prompt (as
// term.ReadPassword does), echoes whatever is typed in between.
func readHidden(tty *os.File, prompt string) (string, error) {
	fd := int(tty.Fd())
	state, err := term.MakeRaw(fd)
	if err != nil {
		return "", err
	}
	defer func() { _ = term.Restore(fd, state) }()
	pw, err := term.NewTerminal(tty, "").ReadPassword(prompt)
	fmt.Fprint(tty, "\r\n")
	return pw, err
}

func readLine(in io.Reader) (string, error) {
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
