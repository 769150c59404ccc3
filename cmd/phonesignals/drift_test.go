package main

import (
	"context"
	"strings"
	"testing"
)

// TestCLISchemaDrift: a column retyped behind the migrations' back is
// reported by migrate (exit 2, naming the column and the fix) and by
// doctor, where before migrate said "up to date" and doctor was silent.
func TestCLISchemaDrift(t *testing.T) {
	e := newCLIEnv(t)
	e.ok(t, "migrate")
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.query(t, "ALTER TABLE "+e.db+".raw_signals MODIFY COLUMN duration_sec UInt8")

	out, err := e.fail(t, "migrate")
	msg := out + err.Error()
	for _, want := range []string{"raw_signals.duration_sec is UInt8, want UInt32", "ALTER TABLE raw_signals MODIFY COLUMN duration_sec UInt32"} {
		if !strings.Contains(msg, want) {
			t.Errorf("migrate on a drifted schema: %q lacks %q", msg, want)
		}
	}
	out, err = e.fail(t, "doctor", "--org", "acme", "--offline")
	if !strings.Contains(out, "FAIL  schema drift: column raw_signals.duration_sec is UInt8, want UInt32") {
		t.Errorf("doctor on a drifted schema printed:\n%s(err %v)", out, err)
	}
	// No scratch database is left behind.
	if got := e.query(t, "SELECT count() FROM system.databases WHERE name LIKE '"+e.db+"_expected_%'"); strings.TrimSpace(got) != "0" {
		t.Errorf("%s scratch databases left", got)
	}

	e.query(t, "ALTER TABLE "+e.db+".raw_signals MODIFY COLUMN duration_sec UInt32")
	e.ok(t, "migrate")
	st := e.store(t)
	if d, err := st.SchemaDrift(context.Background()); err != nil || len(d) != 0 {
		t.Fatalf("after the fix: drift %v, %v", d, err)
	}
}
