package transform

import "testing"

// Every Col* constant has its field in Schema, named once.
func TestSchemaColumns(t *testing.T) {
	if n := Schema.NumFields(); n != numColumns {
		t.Fatalf("Schema has %d fields, want %d (one per Col* constant)", n, numColumns)
	}
	seen := map[string]int{}
	for i, f := range Schema.Fields() {
		if f.Name == "" || f.Type == nil {
			t.Errorf("column %d has no field in columns: key it by its Col* constant", i)
		}
		if j, dup := seen[f.Name]; dup {
			t.Errorf("columns %d and %d are both named %q", j, i, f.Name)
		}
		seen[f.Name] = i
	}
	for name, i := range map[string]int{"org": ColOrg, "started_at": ColStartedAt, "resolved": ColResolved, "observed_at": ColObservedAt} {
		if got := Schema.Field(i).Name; got != name {
			t.Errorf("Schema.Field(%d) = %q, want %q", i, got, name)
		}
	}
}
