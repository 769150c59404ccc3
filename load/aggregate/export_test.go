package aggregate

import "log/slog"

// What the external tests (package aggregate_test, which drive a
// load.Loader: load imports this package) set inside a Maintainer.

// RefreshForm is refreshForm, for the tests that force one.
type RefreshForm = refreshForm

// The refresh forms.
const (
	FormAuto = formAuto
	FormDays = formDays
	FormOrg  = formOrg
)

// SetForm forces the refresh form of m's passes.
func SetForm(m *Maintainer, f RefreshForm) { m.form = f }

// SetBeforeRefreshedMark runs f in m's next passes after their rows are
// written and before their days are marked refreshed (nil: nothing).
func SetBeforeRefreshedMark(m *Maintainer, f func()) { m.hooks.beforeRefreshedMark = f }

// SetLogger replaces m's logger.
func SetLogger(m *Maintainer, l *slog.Logger) { m.log = l }
