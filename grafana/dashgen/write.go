package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// builders are every dashboard, by uid.
func builders() map[string]*dashboard.DashboardBuilder {
	return map[string]*dashboard.DashboardBuilder{
		TeamUID:      teamReview(),
		EmployeeUID:  employeePage(),
		FreshnessUID: freshness(),
	}
}

// Render returns each dashboard's JSON by file name (uid + ".json").
func Render() (map[string][]byte, error) {
	out := map[string][]byte{}
	for uid, b := range builders() {
		d, err := b.Build()
		if err != nil {
			return nil, fmt.Errorf("building dashboard %s: %w", uid, err)
		}
		// Panel ids in layout order: links, viewPanel and inspect need them.
		for i, p := range d.Panels {
			if p.Panel != nil {
				id := uint32(i + 1)
				p.Panel.Id = &id
			}
		}
		raw, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encoding dashboard %s: %w", uid, err)
		}
		out[uid+".json"] = append(raw, '\n')
	}
	return out, nil
}

// Write renders every dashboard into dir and returns the files written.
func Write(dir string) ([]string, error) {
	files, err := Render()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	var written []string
	for name, raw := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", p, err)
		}
		written = append(written, p)
	}
	sort.Strings(written)
	return written, nil
}
