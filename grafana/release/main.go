package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

const usage = "usage: release plugin-json|version|manifest|zip|check [flags] (go run ./grafana/release CMD -h)"

// run runs one subcommand.
func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	switch args[0] {
	case "plugin-json":
		src := fs.String("src", "grafana/src/plugin.json", "plugin.json with create-plugin's %VERSION% and %TODAY% placeholders")
		pkg := fs.String("package", "grafana/package.json", "package.json: its version is the plugin's")
		dst := fs.String("out", "grafana/dist/plugin.json", "rendered plugin.json")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return writePluginJSON(*src, *pkg, *dst)
	case "version":
		pkg := fs.String("package", "grafana/package.json", "package.json: its version is the plugin's")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		v, err := PackageVersion(*pkg)
		if err == nil {
			fmt.Fprintln(out, v)
		}
		return err
	case "manifest":
		root := fs.String("root", ".", "the module root: every .go file under it is listed")
		dst := fs.String("out", "grafana/dist/"+ManifestFile, "manifest file")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		m, err := GoManifest(*root)
		if err != nil {
			return err
		}
		return os.WriteFile(*dst, []byte(m), 0o644)
	case "zip":
		return zipCommand(fs, args[1:], out)
	case "check":
		opts, err := checkFlags(fs, args[1:])
		if err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("check: want exactly one FILE.zip")
		}
		return report(fs.Arg(0), opts, out)
	}
	return fmt.Errorf("unknown command %q; %s", args[0], usage)
}

// checkFlags defines and parses -platforms and -source.
func checkFlags(fs *flag.FlagSet, args []string) (CheckOptions, error) {
	platforms := fs.String("platforms", "all", "backend binaries required: all, host, or OS/ARCH[,OS/ARCH]")
	source := fs.String("source", ".", "the source the go_plugin_build_manifest must match (empty: do not compare)")
	if err := fs.Parse(args); err != nil {
		return CheckOptions{}, err
	}
	ps, err := parsePlatforms(*platforms)
	return CheckOptions{Platforms: ps, SourceDir: *source}, err
}

// zipCommand packs -dist into -out (default bin/<id>-<version>.zip) and
// checks the archive.
func zipCommand(fs *flag.FlagSet, args []string, out io.Writer) error {
	dist := fs.String("dist", "grafana/dist", "the built plugin (grafana/build.sh)")
	dst := fs.String("out", "", "archive (default bin/<id>-<version>.zip)")
	opts, err := checkFlags(fs, args)
	if err != nil {
		return err
	}
	if *dst == "" {
		meta, err := readPluginMeta(filepath.Join(*dist, "plugin.json"))
		if err != nil {
			return err
		}
		*dst = filepath.Join("bin", ArchiveName(meta))
	}
	if err := os.MkdirAll(filepath.Dir(*dst), 0o755); err != nil {
		return err
	}
	if err := Zip(*dist, *dst); err != nil {
		return err
	}
	return report(*dst, opts, out)
}

// report checks the archive and prints its problems; any Error fails.
func report(zipPath string, opts CheckOptions, out io.Writer) error {
	problems, err := Check(zipPath, opts)
	if err != nil {
		return err
	}
	errs := 0
	for _, p := range problems {
		fmt.Fprintln(out, p)
		if p.Severity == Error {
			errs++
		}
	}
	if errs > 0 {
		return fmt.Errorf("%s: %d validator errors", zipPath, errs)
	}
	fmt.Fprintf(out, "%s: passes the plugin validator's offline rules (%d binaries for %v)\n", zipPath, len(opts.Platforms), opts.Platforms)
	return nil
}
