package store

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// DiscoveryFormats are the formats Discovery.Write takes.
var DiscoveryFormats = []string{"text", "csv", "json"}

// DiscoveryHeader is the header of `employees discover --format csv`.
var DiscoveryHeader = []string{"provider_user_id", "name", "email", "calls", "employee_id", "employee_name"}

// DiscoveryLabels name the provider in Discovery.Write's text.
type DiscoveryLabels struct {
	// Title is the provider's name ("Aircall").
	Title string
	// UserIDName is its user's ("Aircall user").
	UserIDName string
}

// Write prints d in format (text, csv or json).
func (d Discovery) Write(w io.Writer, format string, l DiscoveryLabels) error {
	switch format {
	case "text":
		return d.writeText(w, l)
	case "csv":
		return d.writeCSV(w)
	case "json":
		return d.writeJSON(w)
	}
	return fmt.Errorf("--format %q: want %s", format, strings.Join(DiscoveryFormats, ", "))
}

// Days is the length of the calls' range in days.
func (d Discovery) Days() int { return int(d.To.Sub(d.From).Round(time.Hour).Hours() / 24) }

func (d Discovery) writeText(w io.Writer, l DiscoveryLabels) error {
	mapped, toMatch := 0, 0
	for _, u := range d.Users {
		switch {
		case u.Employee != nil:
			mapped++
		case u.Email != "":
			toMatch++
		}
	}
	fmt.Fprintf(w, "%s users of org %s: %d, %d mapped to employees; calls from %s to %s (%d days, UTC, end exclusive)\n",
		l.Title, d.Org, len(d.Users), mapped, d.From.Format(time.DateOnly), d.To.Format(time.DateOnly), d.Days())
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tCALLS\tEMPLOYEE")
	for _, u := range d.Users {
		emp := "none"
		if u.Employee != nil {
			emp = strings.TrimSpace(u.Employee.ID + " " + u.Employee.Name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", u.ID, dash(u.Name), dash(u.Email), u.Calls, emp)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if toMatch > 0 {
		fmt.Fprintf(w, "%d users with an e-mail are not mapped: phonesignals employees import --org %s --match email [FILE.csv] maps roster rows to them by e-mail\n", toMatch, d.Org)
	}
	for _, e := range d.NotListed {
		fmt.Fprintf(w, "employee %s (%s) is mapped to %s %s, which %s does not list: check its provider_user_id\n", e.ID, e.Name, l.UserIDName, e.ProviderUserID, l.Title)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (d Discovery) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(DiscoveryHeader)
	for _, u := range d.Users {
		id, name := "", ""
		if u.Employee != nil {
			id, name = u.Employee.ID, u.Employee.Name
		}
		_ = cw.Write([]string{u.ID, u.Name, u.Email, strconv.FormatUint(u.Calls, 10), id, name})
	}
	cw.Flush()
	return cw.Error()
}

// discoveryJSON is `employees discover --format json`.
type discoveryJSON struct {
	Org       string           `json:"org"`
	Provider  string           `json:"provider"`
	CallsFrom time.Time        `json:"calls_from"`
	CallsTo   time.Time        `json:"calls_to"`
	Days      int              `json:"days"`
	Users     []discoveredJSON `json:"users"`
	NotListed []notListedJSON  `json:"employees_not_listed"`
}

type discoveredJSON struct {
	ProviderUserID string  `json:"provider_user_id"`
	Name           string  `json:"name"`
	Email          *string `json:"email"`
	Calls          uint64  `json:"calls"`
	EmployeeID     *string `json:"employee_id"`
	EmployeeName   *string `json:"employee_name"`
}

type notListedJSON struct {
	EmployeeID     string `json:"employee_id"`
	ProviderUserID string `json:"provider_user_id"`
}

func (d Discovery) writeJSON(w io.Writer) error {
	out := discoveryJSON{Org: d.Org, Provider: d.Provider, CallsFrom: d.From, CallsTo: d.To, Days: d.Days(),
		Users: []discoveredJSON{}, NotListed: []notListedJSON{}}
	for _, u := range d.Users {
		j := discoveredJSON{ProviderUserID: u.ID, Name: u.Name, Calls: u.Calls}
		if u.Email != "" {
			j.Email = &u.Email
		}
		if u.Employee != nil {
			j.EmployeeID, j.EmployeeName = &u.Employee.ID, &u.Employee.Name
		}
		out.Users = append(out.Users, j)
	}
	for _, e := range d.NotListed {
		out.NotListed = append(out.NotListed, notListedJSON{EmployeeID: e.ID, ProviderUserID: e.ProviderUserID})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
