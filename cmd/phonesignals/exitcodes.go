package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// The exit codes of phonesignals, one meaning each; README.md ("Exit
// codes") lists them for scripts.
const (
	// exitFailed: the command failed; the error says why.
	exitFailed = 1
	// exitNeedsFix: a check found something to fix before going on:
	// doctor's problems, a live schema that drifted from the migrations',
	// a master key that does not open the stored data.
	exitNeedsFix = 2
	// exitLocked: another sync of the same org is running.
	exitLocked = 3
	// exitUsage: the command line is wrong (unknown command, help topic
	// or flag, a missing required flag, a --format the command does not
	// print). 64 is EX_USAGE of sysexits.h.
	exitUsage = 64
)

// exitCode is the code main exits with after err: its cli.ExitCoder's
// code, exitFailed for any other error, 0 for none.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return exitFailed
}

// exitError is an error with the exit code main exits with.
type exitError struct {
	msg  string
	code int
}

func (e *exitError) Error() string { return e.msg }

// ExitCode is the code main exits with (cli.ExitCoder).
func (e *exitError) ExitCode() int { return e.code }

// exitErr is an error exiting with code, its message formatted.
func exitErr(code int, format string, a ...any) error {
	return &exitError{msg: fmt.Sprintf(format, a...), code: code}
}

// exitWith is err exiting with code (nil stays nil).
func exitWith(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{msg: err.Error(), code: code}
}

// usageErrorPrefixes start the messages of urfave/cli's (and package
// flag's) command-line errors, which come back as plain errors.
var usageErrorPrefixes = []string{"flag provided but not defined", "Required flag", "invalid value", "flag needs an argument", "invalid boolean"}

// classifyExit gives urfave/cli's own errors their exit code: its "No help
// topic" (a mistyped command, exit 3 in urfave, which is exitLocked here)
// and its flag errors are usage errors.
func classifyExit(err error) error {
	if err == nil {
		return nil
	}
	var ours *exitError
	if errors.As(err, &ours) {
		return err
	}
	msg := err.Error()
	var ec cli.ExitCoder
	if errors.As(err, &ec) && strings.HasPrefix(msg, "No help topic for") {
		return exitErr(exitUsage, "%s (phonesignals --help lists the commands)", msg)
	}
	for _, p := range usageErrorPrefixes {
		if strings.HasPrefix(msg, p) {
			return exitWith(exitUsage, err)
		}
	}
	return err
}
