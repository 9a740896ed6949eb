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

// Package cmd holds the authstack command line: one binary whose
// subcommands run the token server, the dev server and the manager.
package cmd

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/utils/clock"
)

// envPrefix prefixes the environment variable of every flag:
// --redis-url is also AUTHSTACK_REDIS_URL.
const envPrefix = "AUTHSTACK_"

// NewRoot returns the root command.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "authstack",
		Short:         "Kubernetes-native OAuth 2.0 password-grant token server",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return bindEnv(cmd.Flags())
		},
	}
	root.AddCommand(newServerCommand(), newDevCommand(), newManagerCommand(),
		newLoginCommand(), newLogoutCommand(), newKubeconfigCommand(), newJWKSCommand(), newStatusCommand(clock.RealClock{}))
	return root
}

// Execute runs the root command and exits with its status.
func Execute() { os.Exit(execute(NewRoot())) }

// execute runs root and returns the process's exit status: 0, 1 on an
// error, or an exitError's code. The error, if any, goes to stderr.
func execute(root *cobra.Command) int {
	err := root.Execute()
	if err == nil {
		return 0
	}
	if !errors.Is(err, errSilent) {
		fmt.Fprintln(os.Stderr, errorLine(err))
	}
	return exitCode(err)
}

// exitError ends the command with its exit code, printing err if set: a
// command whose answer is its exit status (`authstack status`).
type exitError struct {
	code int
	err  error
}

// errSilent is the error of an exitError without one: nothing to print.
var errSilent = errors.New("no error to print")

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error {
	if e.err == nil {
		return errSilent
	}
	return e.err
}

// exitCode is the process's exit status for a command's error.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// bindEnv sets every flag not given on the command line from its
// AUTHSTACK_* environment variable, when that is set.
func bindEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		name := envName(f.Name)
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("environment variable %s: %w", name, serr)
		}
	})
	return err
}

func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// newLogger returns the JSON logger every command uses.
func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// annotateEnv names each flag's environment variable in its --help line.
func annotateEnv(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		f.Usage += " [" + envName(f.Name) + "]"
	})
}
