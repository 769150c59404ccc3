package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "grafana/dashboards", "directory the dashboard JSON files are written to")
	flag.Parse()
	files, err := Write(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashgen:", err)
		os.Exit(1)
	}
	for _, f := range files {
		fmt.Println("wrote", f)
	}
}
