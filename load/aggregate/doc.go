// Package aggregate keeps the per-day aggregates, user_day_metrics: the
// second stage behind load, which writes raw_signals and calls in here
// (Maintainer.Lookup and MarkDays) once a poll's rows are in.
//
// It owns:
//   - the marks in user_day_dirty (aggregates.go): "loaded" when a poll's
//     rows for an (org, UTC day) are in raw_signals, "refreshing" when a
//     refresh reserved its version, "refreshed" when its rows are written;
//     a day is dirty while its newest loaded mark is above its newest
//     refreshed one, and reads take dirty days from raw_signals;
//   - the refresher (refresh.go): in the background, or on Refresh and
//     Close, it recomputes the dirty days from raw_signals as absolute
//     rows under a new version, per org from the dirty days' calls or from
//     all of the org's calls, whichever reads less;
//   - verify and rebuild (verify.go): `phonesignals aggregates verify`
//     compares the stored numbers with raw_signals, `aggregates rebuild`,
//     `org set` and the erasures recompute a range of days.
//
// Why the numbers are exact with any number of loaders and any clocks:
// no version comes from a clock; every mark and refresh takes one above
// the largest value user_day_dirty holds for its orgs, read after what it
// follows (a poll's mark after its insert, a refresh's reservation before
// it reads raw_signals). So a refreshed mark reaches a loaded one only when
// that refresh counted the poll's rows. ARCHITECTURE.md ("Why the per-day
// aggregates are exact with N loaders and any clocks") has the argument.
package aggregate
