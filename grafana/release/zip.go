package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// pluginMeta is what packing needs from plugin.json.
type pluginMeta struct {
	ID         string `json:"id"`
	Executable string `json:"executable"`
	Info       struct {
		Version string `json:"version"`
	} `json:"info"`
}

func readPluginMeta(pluginJSON string) (pluginMeta, error) {
	var m pluginMeta
	raw, err := os.ReadFile(pluginJSON)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("%s: %w", pluginJSON, err)
	}
	if m.ID == "" {
		return m, fmt.Errorf("%s: no id", pluginJSON)
	}
	return m, nil
}

// ArchiveName is the archive's conventional name, <id>-<version>.zip, as
// create-plugin's release workflow names it.
func ArchiveName(m pluginMeta) string { return m.ID + "-" + m.Info.Version + ".zip" }

// Zip packs the built plugin in dist into the archive out: every file
// under one folder named by the plugin id (dist's plugin.json), the
// backend binaries mode 0755, everything else 0644 and directories 0755,
// so nothing is world-writable whatever the build's umask.
func Zip(dist, out string) error {
	meta, err := readPluginMeta(filepath.Join(dist, "plugin.json"))
	if err != nil {
		return err
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(dist, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dist, p)
		if err != nil {
			return err
		}
		name := path.Join(meta.ID, filepath.ToSlash(rel))
		return addEntry(zw, p, name, d, meta.Executable)
	})
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("packing %s into %s: %w", dist, out, err)
	}
	return os.Rename(tmp, out)
}

// addEntry writes one file or directory of dist as name.
func addEntry(zw *zip.Writer, p, name string, d fs.DirEntry, executable string) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	switch {
	case d.IsDir():
		h := &zip.FileHeader{Name: name + "/", Modified: info.ModTime()}
		h.SetMode(fs.ModeDir | 0o755)
		_, err := zw.CreateHeader(h)
		return err
	case !d.Type().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s): the archive holds files only", p, d.Type())
	}
	h, err := zip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	h.Name, h.Method = name, zip.Deflate
	mode := fs.FileMode(0o644)
	if executable != "" && strings.HasPrefix(d.Name(), path.Base(executable)) {
		mode = 0o755
	}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	src, err := os.Open(p)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(w, src)
	return err
}
