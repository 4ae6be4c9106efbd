package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/schemas"
)

const intro = `# Monthly monitoring JSON: data dictionary

<!-- Generated from schemas/*.schema.json by ` + "`make schemas-doc`" + ` (internal/tools/schemadoc). Do not edit: edit the schemas. -->

The gateway's monthly ECM and Community Supports monitoring file to DHCS (` + "`calgw report monthly`" + `) and
DHCS's response to it (` + "`calgw ingest --kind dhcs-response`" + `). DHCS's own schemas are given to plans on
request and are not public: these follow the published data elements (ECM Policy Guide, "JSON Monitoring
Process": phases 1 to 4 and Transitional Rent) and DHCS's house style for JSON submissions (the MCPD and PCPA
schemas: header with planParent, submissionDate, reportingPeriod, submissionType and schemaVersion; a
3-character planCode per county on each record; CIN ` + "`^[0-9]{8}[A-Z]$`" + `; recordType Original / Resubmission /
Void with the parent record's ID; enumerations spelled out; file names ` + "`<PLAN>_<KIND>_<YYYYMMDD>_<NNNNN>.json`" + `).
A plan that has DHCS's files puts them in ` + "`schemas_dir`" + ` (same file names); ` + "`calgw validate`" + ` then
checks against them and reports, field by field, where the gateway's builder and those files disagree.
The gateway validates with its own validator (` + "`schemas/jsonschema`" + `: draft 2020-12, or draft-07 when a
file says so). It applies type, enum, const, properties, required, additionalProperties, items,
prefixItems, minItems, maxItems, uniqueItems, pattern (Go's RE2 syntax), format (date, time, date-time,
email, uuid, ipv4, ipv6, uri), minLength, maxLength, minimum, maximum, exclusiveMinimum,
exclusiveMaximum, multipleOf, allOf, anyOf, oneOf, not, if/then/else and ` + "`$ref`" + ` to a JSON pointer in the
same file. A schema file with any other keyword (annotations and ` + "`x-`" + ` keywords aside), another
format, or a reference to another file is refused when it is loaded, the error naming the keyword's JSON
pointer, rather than applied in part. It is held to ` + "`github.com/santhosh-tekuri/jsonschema/v6`" + ` (in tests
only, so that ` + "`calgw`" + ` does not pay that library's start-up): on the embedded schemas, the committed monthly
file and DHCS response and about 4,500 systematic breakages of them give the same verdicts, and every value
the gateway blames is one v6 blames too (` + "`TestVerdictsAgreeWithV6`" + `); the validator's own test cases give
v6's verdicts (` + "`TestSuite`" + `).

Conventions of the gateway's own that DHCS's files may not share:
- dates are CCYYMMDD strings (as MCPD and PCPA write them); money is a string with two decimals;
- the header is the file's last member, after the data sets, so that the builder streams the records and
  writes the counts once it knows them (member order carries no meaning in JSON);
- a field the gateway's state has no source for is present with null where the schema allows it, and the
  builder's side report lists it; a data set with no source is an empty array.

`

// Render returns the data dictionary of the embedded schemas.
func Render() ([]byte, error) {
	set, err := schemas.Embedded()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(intro)
	m, _ := set.Doc(schemas.MonthlyFile).(map[string]any)
	defs, _ := m["$defs"].(map[string]any)
	props, _ := m["properties"].(map[string]any)
	fmt.Fprintf(&b, "## Monthly submission (`%s`)\n\n%s\n\n", schemas.MonthlyFile, str(m, "description"))
	b.WriteString("| Member | Records |\n|---|---|\n")
	for _, ds := range schemas.DataSets {
		fmt.Fprintf(&b, "| `%s` | %s |\n", ds, oneLine(str(resolve(defs, items(props[ds])), "description")))
	}
	b.WriteString("| `header` | the header (below) |\n\n")
	section(&b, defs, "Header", resolve(defs, props["header"]))
	for _, ds := range schemas.DataSets {
		section(&b, defs, "`"+ds+"`", resolve(defs, items(props[ds])))
	}
	r, _ := set.Doc(schemas.ResponseFile).(map[string]any)
	rdefs, _ := r["$defs"].(map[string]any)
	fmt.Fprintf(&b, "## DHCS response (`%s`)\n\n", schemas.ResponseFile)
	section(&b, rdefs, "Response file", r)
	section(&b, rdefs, "A responseHierarchy node", rdefs["node"])
	section(&b, rdefs, "A response", rdefs["response"])
	b.WriteString(outro)
	return b.Bytes(), nil
}

// outro is the dictionary's end: how a month's files follow one another,
// and what is not done.
const outro = `## A month's files: Original, Resubmission, Void

A month's first file is version 001, submissionType Original, every record an Original. Once
` + "`calgw ingest --kind dhcs-response`" + ` has loaded DHCS's response to the month's latest file, the month's next
build is the next version, a Resubmission. The store keeps every record sent (its identity, type,
parent and content), and for each identity (data set and key) what DHCS holds: its latest accepted
Original or Resubmission, unless a Void DHCS accepted withdrew it ("Resubmission and Void records will
be rejected if there is not a previously accepted Submission with an ID that matches the Parent ID",
MCPD schema text). The next file then sends:
- a record DHCS does not hold (new, rejected, or withdrawn) as an Original;
- a record DHCS holds that changed as a Resubmission whose parentRecordId is the held record, also after
  DHCS rejected an earlier Resubmission of it;
- a record DHCS holds that the state no longer gives (an authorization now decided in another month, a
  member no longer enrolled) as a Void whose parentRecordId is the held record, carrying the content DHCS
  accepted;
- nothing for a record DHCS holds unchanged.

The side report counts the Voids per data set. A file built again before DHCS answers it keeps its
version and its bytes.

Outreach fields the outreach code does not tell (outreachOutcome, outreachMethod) are Not Reported,
an enumeration value, never guessed: mappings/monthly OutreachCodes names the codes that tell, with
their dates and source, and names none yet.

## Not done

- Encounter corrections: ` + "`csServicesReceived`, `csUtilization` and `outreach`" + ` count the original encounter
  lines sent. A void (CLM05-3 8) or a replacement (7) of one does not take it back or change its units
  and amount, and neither does DHCS denying it (277CA F2): the store does not tie a service to the CLM01
  it went out under yet.
- Late encounters: ` + "`csServicesReceived`, `csUtilization`, `outreach` and `transitionalRent`" + ` count the lines sent
  whose first date of service is in the month, as the state holds them when the file is built. A line sent
  after its month's file was built (a provider billing late) is in no file until that month is built again
  (` + "`calgw report monthly --month`" + ` after DHCS's response: the Resubmission sends it as an Original); the
  monthly job builds each month once. Whether DHCS counts a service by its date or by the month it was
  sent is not in the sources.
- Voids of records sent before the store kept what it sent (an earlier gateway): the side report counts
  them per data set, to void by hand.
- A Resubmission of a very large month keeps what DHCS holds of the month (each record's identity, ID and
  content hash; the content only of the records it voids) in memory while it builds; a month's first file
  streams.
- Closed-loop referrals, provider returns, request dates, turnaround and denial reasons, the lead care
  manager's name: no source in the state yet (null or empty, listed in the side report). The state keeps
  ADT events, but no data element of the schema takes them.
`

// section writes one object's fields as a table.
func section(b *bytes.Buffer, defs map[string]any, title string, obj any) {
	o, _ := obj.(map[string]any)
	fmt.Fprintf(b, "### %s\n\n", title)
	if d := str(o, "description"); d != "" {
		fmt.Fprintf(b, "%s\n\n", d)
	}
	if u := str(o, "x-unknown"); u != "" {
		fmt.Fprintf(b, "**Not known:** %s\n\n", u)
	}
	b.WriteString("| Field | Required | Type and format | Description |\n|---|---|---|---|\n")
	props, _ := o["properties"].(map[string]any)
	var req []string
	if rs, ok := o["required"].([]any); ok {
		for _, r := range rs {
			req = append(req, fmt.Sprint(r))
		}
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	// required fields first, in the schema's order of "required", then the rest by name
	slices.SortStableFunc(names, func(a, c string) int {
		ia, ic := slices.Index(req, a), slices.Index(req, c)
		switch {
		case ia >= 0 && ic >= 0:
			return ia - ic
		case ia >= 0:
			return -1
		case ic >= 0:
			return 1
		}
		return strings.Compare(a, c)
	})
	for _, n := range names {
		p := props[n]
		r := "no"
		if slices.Contains(req, n) {
			r = "yes"
		}
		desc := str(p.(map[string]any), "description")
		if desc == "" {
			desc = str(resolve(defs, p), "description")
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", n, r, typeOf(defs, p), oneLine(desc))
	}
	b.WriteString("\n")
}

// typeOf describes a property's type: its definition's type, pattern,
// format and enumeration, and "or null" for a nullable one.
func typeOf(defs map[string]any, p any) string {
	m, _ := p.(map[string]any)
	if alts, ok := m["oneOf"].([]any); ok {
		var parts []string
		for _, a := range alts {
			parts = append(parts, typeOf(defs, a))
		}
		return strings.Join(parts, ", or ")
	}
	var parts []string
	if ref := str(m, "$ref"); ref != "" {
		parts = append(parts, "`"+strings.TrimPrefix(ref, "#/$defs/")+"`:")
		m, _ = resolve(defs, m).(map[string]any)
	}
	t := fmt.Sprint(m["type"])
	if m["type"] == nil {
		t = "any"
	}
	if ts, ok := m["type"].([]any); ok {
		var s []string
		for _, x := range ts {
			s = append(s, fmt.Sprint(x))
		}
		t = strings.Join(s, " or ")
	}
	if t == "array" {
		t = "array of " + typeOf(defs, m["items"])
	}
	parts = append(parts, t)
	if v := str(m, "pattern"); v != "" {
		parts = append(parts, "pattern `"+strings.ReplaceAll(v, "|", `\|`)+"`")
	}
	if v := str(m, "format"); v != "" {
		parts = append(parts, "format "+v)
	}
	for _, k := range []string{"minimum", "minLength", "maxLength", "maxItems"} {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	if e, ok := m["enum"].([]any); ok {
		var s []string
		for _, x := range e {
			s = append(s, fmt.Sprintf("%q", x))
		}
		parts = append(parts, "one of "+strings.Join(s, ", "))
	}
	return strings.Join(parts, " ")
}

// resolve follows a local "$ref" into defs.
func resolve(defs map[string]any, v any) any {
	m, _ := v.(map[string]any)
	for m != nil {
		ref := str(m, "$ref")
		name, ok := strings.CutPrefix(ref, "#/$defs/")
		if !ok || len(m) > 2 && m["properties"] != nil {
			return m
		}
		m, _ = defs[name].(map[string]any)
	}
	return m
}

func items(v any) any {
	m, _ := v.(map[string]any)
	return m["items"]
}

func str(m any, k string) string {
	mm, _ := m.(map[string]any)
	s, _ := mm[k].(string)
	return s
}

func oneLine(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", `\|`) }
