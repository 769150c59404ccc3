package obs

import (
	"fmt"
	"testing"
)

// TestServeOrgLabelCap: past the cap orgs share OtherOrg, and an org gone
// frees its label.
func TestServeOrgLabelCap(t *testing.T) {
	SetServeOrgLabelCap(3)
	defer SetServeOrgLabelCap(0)
	var got []string
	for i := range 5 {
		got = append(got, ServeOrgLabel(fmt.Sprintf("capped-%d", i)))
	}
	if want := "[capped-0 capped-1 capped-2 _other _other]"; fmt.Sprint(got) != want {
		t.Fatalf("labels %v, want %s", got, want)
	}
	ServeOrgFreshness("capped-1", 1, 2)
	ServeOrgGone("capped-1")
	if l := ServeOrgLabel("capped-4"); l != "capped-4" {
		t.Fatalf("after an org left, a new one got %q", l)
	}
	for i := range 5 {
		ServeOrgGone(fmt.Sprintf("capped-%d", i))
	}
}
