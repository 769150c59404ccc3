package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// orgUsage is the help of every --org flag.
const orgUsage = "the org's `NAME` (see phonesignals org list)"

// newOrgFlag is the required --org flag of the per-org commands.
func newOrgFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "org", Required: true, Usage: orgUsage}
}

// runApp runs app on args with the global flags also accepted after the
// subcommand (`phonesignals review --clickhouse X ...`), a command's flags
// also after its arguments (`employees remove E100 --org acme`), and
// urfave/cli's own errors given their exit codes (classifyExit).
func runApp(ctx context.Context, app *cli.App, args []string) error {
	return classifyExit(app.RunContext(ctx, hoistGlobalFlags(app, args)))
}

// hoistGlobalFlags moves the app's global flags found after the
// subcommand to before it, where urfave/cli parses them, and a command's
// own flags found after its positional arguments to before them: urfave
// (package flag) stops reading flags at the first argument. A flag the
// subcommand defines itself stays its own, nothing after "--" moves, and
// --generate-bash-completion stays last, where urfave looks for it.
func hoistGlobalFlags(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	globals := flagArity(app.Flags)
	out := []string{args[0]}
	i := 1
	// Global flags already before the subcommand stay.
	for i < len(args) && isFlag(args[i]) {
		n := 1
		if name, hasValue := flagName(args[i]); globals[name] && !hasValue {
			n = 2
		}
		out = append(out, args[i:min(i+n, len(args))]...)
		i += n
	}
	var moved, rest, positional, tail []string
	local := map[string]bool{}
	cmds := app.Commands
	leaf := false
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" || (a == "--generate-bash-completion" && i == len(args)-1) {
			tail = args[i:]
			break
		}
		if !isFlag(a) {
			if c := findCommand(cmds, a); c != nil && !leaf {
				for k, v := range flagArity(c.Flags) {
					local[k] = v
				}
				cmds = c.Subcommands
				leaf = len(cmds) == 0
				rest = append(rest, a)
			} else if leaf {
				positional = append(positional, a)
			} else {
				rest = append(rest, a)
			}
			continue
		}
		name, hasValue := flagName(a)
		takesValue, isLocal := local[name]
		dst := &rest
		if g, isGlobal := globals[name]; isGlobal && !isLocal {
			dst, takesValue = &moved, g
		}
		*dst = append(*dst, a)
		if takesValue && !hasValue && i+1 < len(args) {
			i++
			*dst = append(*dst, args[i])
		}
	}
	out = append(append(out, moved...), rest...)
	return append(append(out, positional...), tail...)
}

// flagArity maps every name of flags to whether it takes a value.
func flagArity(flags []cli.Flag) map[string]bool {
	m := map[string]bool{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			m[n] = !isBool
		}
	}
	return m
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' && a != "--" }

// flagName returns the name in "--name", "-name" or "--name=value", and
// whether the value is attached.
func flagName(a string) (string, bool) {
	name := strings.TrimLeft(a, "-")
	name, _, hasValue := strings.Cut(name, "=")
	return name, hasValue
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// bashCompletion drives urfave/cli's --generate-bash-completion: it asks
// the binary itself for the commands, subcommands and flags that fit, and
// for the org names and cycle ids after --org and --cycle
// (completeValueEnv).
const bashCompletion = `# phonesignals completion for bash; load with
#   source <(phonesignals completion bash)
_phonesignals_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" words
  if [[ "$prev" == --org || "$prev" == --cycle ]]; then
    words=$(PHONESIGNALS_COMPLETE_VALUE="${prev#--}" "${COMP_WORDS[@]:0:$COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
  elif [[ "$cur" == -* ]]; then
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _phonesignals_complete phonesignals
`

// completionCommand prints the shell completion script.
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script (bash or zsh)",
		ArgsUsage: "bash|zsh",
		Description: "bash: source <(phonesignals completion bash), or save it under /etc/bash_completion.d/\n" +
			"zsh:  source <(phonesignals completion zsh)",
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash", "":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"+bashCompletion)
			default:
				return fmt.Errorf("completion %q: want bash or zsh", c.Args().First())
			}
			return nil
		},
	}
}
