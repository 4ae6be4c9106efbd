// Command x12gen generates the implementation-guide tables of package ig from
// pyx12 maps (github.com/azoner/pyx12, BSD-3-Clause), committed in maps/
// beside this file. Run it from the repository root:
//
//	go run ./edi/x12/ig/internal/x12gen -maps edi/x12/ig/internal/x12gen/maps -out edi/x12/ig
//
// It writes one spec_*_gen.go file per transaction set, control_gen.go (the
// ISA/GS/GE/IEA/TA1 envelope), codelists_gen.go (external code lists) and
// PYX12_LICENSE.txt, the licence that must travel with the derived tables.
// Only this generator reads the maps: the product builds without them.
package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// target is one transaction set to generate.
type target struct {
	File    string // map file name
	Var     string // Go variable name
	Short   string // short name used in the Go file name
	Version string // GS08
	FuncID  string // GS01
}

// defaultMaps is the folder of committed maps, relative to the repository root.
const defaultMaps = "edi/x12/ig/internal/x12gen/maps"

// controlMap is the map of the interchange and functional group envelope.
const controlMap = "x12.control.00501.xml"

var targets = []target{
	{File: "837.5010.X222.A1.xml", Var: "Spec837P", Short: "837p", Version: "005010X222A1", FuncID: "HC"},
	{File: "834.5010.X220.A1.xml", Var: "Spec834", Short: "834", Version: "005010X220A1", FuncID: "BE"},
	{File: "999.5010X231.A1.xml", Var: "Spec999", Short: "999", Version: "005010X231A1", FuncID: "FA"},
	{File: "277.5010.X214.xml", Var: "Spec277CA", Short: "277ca", Version: "005010X214", FuncID: "HN"},
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("x12gen: ")
	maps := flag.String("maps", defaultMaps, "directory holding the pyx12 maps")
	out := flag.String("out", "edi/x12/ig", "output directory (package ig)")
	flag.Parse()
	if err := run(*maps, *out); err != nil {
		log.Fatal(err)
	}
}

func run(mapsDir, outDir string) error {
	g, err := newGenerator(mapsDir, outDir)
	if err != nil {
		return err
	}
	files, err := g.generate()
	if err != nil {
		return err
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(outDir, name), src, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generator holds what is shared by every table.
type generator struct {
	mapsDir  string
	command  string
	header   string // licence comment block
	license  []byte
	dataEle  map[string]dataEle
	codeSets map[string][]string
	usedSets map[string]bool

	// Loops whose contents are identical (the 837P 2300 claim loop under
	// 2000B and 2000C) share one Children slice. seen counts each rendered
	// contents in a first pass; shared names those emitted as variables.
	prefix string
	pass   int
	seen   map[string]int
	shared map[string]string
	vars   []string
	inline bool
}

type dataEle struct {
	Type     string
	Min, Max int
}

// dataEleFixes correct dataele.xml where it does not follow the 005010
// data element dictionary.
var dataEleFixes = map[string]dataEle{
	// Loop Identifier Code: AN 1-6 in 005010 (1-4 in 004010, which
	// dataele.xml has), long enough for IG loop IDs such as "2010BA" in
	// 999 IK303 and CTX04.
	"447": {Type: "AN", Min: 1, Max: 6},
}

func newGenerator(mapsDir, outDir string) (*generator, error) {
	g := &generator{
		mapsDir:  mapsDir,
		command:  fmt.Sprintf("go run ./edi/x12/ig/internal/x12gen -maps %s -out %s", filepath.ToSlash(mapsDir), filepath.ToSlash(outDir)),
		dataEle:  map[string]dataEle{},
		codeSets: map[string][]string{},
		usedSets: map[string]bool{},
	}
	lic, err := os.ReadFile(filepath.Join(mapsDir, "LICENSE.txt"))
	if err != nil {
		return nil, err
	}
	g.license = lic
	snapshot := "unknown"
	if readme, err := os.ReadFile(filepath.Join(mapsDir, "README.md")); err == nil {
		if m := regexp.MustCompile(`snapshot ([0-9a-f]{7,40})`).FindSubmatch(readme); m != nil {
			snapshot = string(m[1])
		}
	}
	var h strings.Builder
	fmt.Fprintf(&h, "// Regenerate with, from the repository root:\n//\n//\t%s\n//\n", g.command)
	fmt.Fprintf(&h, "// Derived from the pyx12 maps (github.com/azoner/pyx12, snapshot %s), used under\n", snapshot)
	h.WriteString("// their licence (a copy is in PYX12_LICENSE.txt beside this file):\n//\n")
	for _, line := range strings.Split(strings.TrimRight(strings.ReplaceAll(string(lic), "\r", ""), "\n"), "\n") {
		line = strings.TrimRight(line, " \t")
		if line == "" {
			h.WriteString("//\n")
		} else {
			h.WriteString("// " + strings.TrimSpace(line) + "\n")
		}
	}
	g.header = h.String()

	root, err := parseFile(filepath.Join(mapsDir, "dataele.xml"))
	if err != nil {
		return nil, err
	}
	for _, d := range root.all("data_ele") {
		min, _ := strconv.Atoi(d.attr("min_len"))
		max, _ := strconv.Atoi(d.attr("max_len"))
		g.dataEle[d.attr("ele_num")] = dataEle{Type: d.attr("data_type"), Min: min, Max: max}
	}
	for ref, fix := range dataEleFixes {
		g.dataEle[ref] = fix
	}
	root, err = parseFile(filepath.Join(mapsDir, "codes.xml"))
	if err != nil {
		return nil, err
	}
	for _, cs := range root.all("codeset") {
		var codes []string
		for _, v := range cs.all("version") {
			for _, c := range v.all("code") {
				codes = append(codes, strings.TrimSpace(c.Content))
			}
		}
		g.codeSets[cs.get("id")] = codes
	}
	return g, nil
}

func (g *generator) generate() (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, t := range targets {
		src, err := g.spec(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.File, err)
		}
		files["spec_"+t.Short+"_gen.go"] = src
	}
	src, err := g.control()
	if err != nil {
		return nil, err
	}
	files["control_gen.go"] = src
	if files["codelists_gen.go"], err = g.codeLists(); err != nil {
		return nil, err
	}
	files["PYX12_LICENSE.txt"] = g.license
	return files, nil
}

func (g *generator) fileHeader(w *strings.Builder, sources string) {
	fmt.Fprintf(w, "// Code generated by x12gen from %s; DO NOT EDIT.\n\n", sources)
	w.WriteString(g.header)
	w.WriteString("\npackage ig\n\n")
}

func (g *generator) spec(t target) ([]byte, error) {
	root, err := parseFile(filepath.Join(g.mapsDir, t.File))
	if err != nil {
		return nil, err
	}
	st := root.find(func(n *xnode) bool { return n.XMLName.Local == "loop" && n.attr("xid") == "ST_LOOP" })
	if st == nil {
		return nil, errors.New("no ST_LOOP")
	}
	setID := ""
	if seg := st.find(func(n *xnode) bool { return n.XMLName.Local == "segment" && n.attr("xid") == "ST" }); seg != nil {
		if el := seg.children("element"); len(el) > 0 {
			if codes := el[0].all("code"); len(codes) > 0 {
				setID = strings.TrimSpace(codes[0].Content)
			}
		}
	}
	if setID == "" {
		return nil, errors.New("cannot find ST01's code")
	}
	kids, err := g.flatten(st)
	if err != nil {
		return nil, err
	}
	g.prefix = strings.TrimPrefix(t.Var, "Spec")
	g.seen, g.shared, g.vars = map[string]int{}, map[string]string{}, nil
	var body strings.Builder
	for g.pass = 1; g.pass <= 2; g.pass++ {
		body.Reset()
		for _, k := range kids {
			if err := g.node(&body, k); err != nil {
				return nil, err
			}
		}
	}
	var w strings.Builder
	g.fileHeader(&w, t.File+", dataele.xml and codes.xml")
	name := root.get("name")
	fmt.Fprintf(&w, "// %s is the %s implementation guide (%s) table, from %s.\n", t.Var, name, t.Version, t.File)
	fmt.Fprintf(&w, "var %s = &Spec{\n", t.Var)
	fmt.Fprintf(&w, "Name: %q, SetID: %q, Version: %q, FunctionalID: %q,\n", name, setID, t.Version, t.FuncID)
	fmt.Fprintf(&w, "Source: %q,\n", "pyx12 map "+t.File)
	w.WriteString("Children: []Node{\n")
	w.WriteString(body.String())
	w.WriteString("},\n}\n")
	for _, v := range g.vars {
		w.WriteString("\n" + v)
	}
	return gofmt(w.String())
}

// flatten returns the children of the ST loop, sorted by position, with the
// IG tables (pyx12 "wrapper" loops) expanded in place and empty ones dropped.
func (g *generator) flatten(st *xnode) ([]*xnode, error) {
	var out []*xnode
	lastPos, lastWrapper := -1, false
	for _, k := range sortByPos(st.nodes("loop", "segment")) {
		if k.XMLName.Local == "loop" && k.attr("type") == "wrapper" {
			inner := sortByPos(k.nodes("loop", "segment"))
			if len(inner) == 0 {
				continue
			}
			if pos(inner[0]) == lastPos {
				return nil, fmt.Errorf("table %s starts at position %d like the node before it: grouping would merge them", k.attr("xid"), lastPos)
			}
			out = append(out, inner...)
			lastPos, lastWrapper = pos(inner[len(inner)-1]), true
			continue
		}
		if lastWrapper && pos(k) == lastPos {
			return nil, fmt.Errorf("%s at position %d follows a table ending at the same position", k.attr("xid"), lastPos)
		}
		out = append(out, k)
		lastPos, lastWrapper = pos(k), false
	}
	return out, nil
}

func (g *generator) node(w *strings.Builder, n *xnode) error {
	switch n.XMLName.Local {
	case "loop":
		return g.loop(w, n)
	case "segment":
		return g.segment(w, n)
	}
	return fmt.Errorf("unexpected <%s>", n.XMLName.Local)
}

func (g *generator) loop(w *strings.Builder, n *xnode) error {
	kids := sortByPos(n.nodes("loop", "segment"))
	if len(kids) == 0 || kids[0].XMLName.Local != "segment" {
		return fmt.Errorf("loop %s does not start with a segment", n.attr("xid"))
	}
	fmt.Fprintf(w, "&Loop{ID: %q, Name: %q, Usage: %s, Pos: %d, Repeat: %d, Children: ",
		n.attr("xid"), n.get("name"), usage(n.get("usage")), pos(n), count(n.get("repeat")))
	// The full text is the key that tells identical contents apart.
	full, err := g.children(kids, true)
	if err != nil {
		return err
	}
	switch {
	case g.pass == 1:
		g.seen[full]++
		w.WriteString(full)
	case g.seen[full] > 1 && !g.inline:
		v, ok := g.shared[full]
		if !ok {
			v = fmt.Sprintf("loop%s%s", g.prefix, n.attr("xid"))
			g.shared[full] = v
			g.vars = append(g.vars, fmt.Sprintf("// %s is the content of loop %s, shared by the places the guide repeats it.\nvar %s = %s\n", v, n.attr("xid"), v, full))
		}
		w.WriteString(v)
	default:
		text, err := g.children(kids, g.inline)
		if err != nil {
			return err
		}
		w.WriteString(text)
	}
	w.WriteString("},\n")
	return nil
}

// children renders a loop's children; inline renders shared contents in full.
func (g *generator) children(kids []*xnode, inline bool) (string, error) {
	saved := g.inline
	g.inline = inline
	defer func() { g.inline = saved }()
	var b strings.Builder
	b.WriteString("[]Node{\n")
	for _, k := range kids {
		if err := g.node(&b, k); err != nil {
			return "", err
		}
	}
	b.WriteString("}")
	return b.String(), nil
}

func (g *generator) segment(w *strings.Builder, n *xnode) error {
	id := n.attr("xid")
	fmt.Fprintf(w, "&Segment{ID: %q, Name: %q, Usage: %s, Pos: %d, MaxUse: %d,", id, n.get("name"), usage(n.get("usage")), pos(n), count(n.get("max_use")))
	if rules := n.children("syntax"); len(rules) > 0 {
		w.WriteString(" Syntax: " + ruleList(rules) + ",")
	}
	w.WriteString("\nElements: []Element{\n")
	els := n.nodes("element", "composite")
	for i, e := range els {
		if seq(e) != i+1 {
			return fmt.Errorf("segment %s: element %d has seq %d", id, i+1, seq(e))
		}
		if err := g.element(w, e, id); err != nil {
			return err
		}
	}
	w.WriteString("}},\n")
	return nil
}

func (g *generator) element(w *strings.Builder, e *xnode, segID string) error {
	ref := e.get("data_ele")
	fmt.Fprintf(w, "{Ref: %q, Name: %q, Usage: %s", ref, e.get("name"), usage(e.get("usage")))
	if r := e.get("repeat"); r != "" && r != "1" {
		fmt.Fprintf(w, ", Repeat: %d", count(r))
	}
	if e.XMLName.Local == "composite" {
		if rules := e.children("syntax"); len(rules) > 0 {
			w.WriteString(", Syntax: " + ruleList(rules))
		}
		w.WriteString(", Components: []Element{\n")
		for i, c := range e.children("element") {
			if seq(c) != i+1 {
				return fmt.Errorf("%s composite %s: component %d has seq %d", segID, ref, i+1, seq(c))
			}
			if err := g.element(w, c, segID); err != nil {
				return err
			}
		}
		w.WriteString("}},\n")
		return nil
	}
	de, ok := g.dataEle[ref]
	if !ok {
		return fmt.Errorf("%s: data element %s not in dataele.xml", segID, ref)
	}
	fmt.Fprintf(w, ", Type: %s, Min: %d, Max: %d", de.Type, de.Min, de.Max)
	if vc := e.child("valid_codes"); vc != nil {
		if ext := vc.attr("external"); ext != "" {
			if _, ok := g.codeSets[ext]; !ok {
				return fmt.Errorf("%s: external code list %q not in codes.xml", segID, ext)
			}
			g.usedSets[ext] = true
			fmt.Fprintf(w, ", CodeList: %q", ext)
		}
		var codes []string
		for _, c := range vc.all("code") {
			codes = append(codes, strings.TrimSpace(c.Content))
		}
		if len(codes) > 0 {
			w.WriteString(", Codes: " + stringList(codes, 8))
		}
	}
	if re := e.get("regex"); re != "" {
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("%s: regex %q: %w", segID, re, err)
		}
		fmt.Fprintf(w, ", Pattern: %q", re)
	}
	w.WriteString("},\n")
	return nil
}

// control generates the envelope segments from x12.control.00501.xml.
func (g *generator) control() ([]byte, error) {
	const file = controlMap
	root, err := parseFile(filepath.Join(g.mapsDir, file))
	if err != nil {
		return nil, err
	}
	var w strings.Builder
	g.fileHeader(&w, file+" and dataele.xml")
	w.WriteString("// The interchange and functional group envelope of version 00501, from " + file + ".\n")
	w.WriteString("var (\n")
	for _, id := range []string{"ISA", "GS", "GE", "IEA", "TA1"} {
		seg := root.find(func(n *xnode) bool { return n.XMLName.Local == "segment" && n.attr("xid") == id })
		if seg == nil {
			return nil, fmt.Errorf("%s: no %s segment", file, id)
		}
		fmt.Fprintf(&w, "control%s = ", id)
		var sb strings.Builder
		if err := g.segment(&sb, seg); err != nil {
			return nil, err
		}
		w.WriteString(strings.TrimSuffix(sb.String(), ",\n") + "\n")
	}
	w.WriteString(")\n")
	return gofmt(w.String())
}

func (g *generator) codeLists() ([]byte, error) {
	var w strings.Builder
	g.fileHeader(&w, "codes.xml")
	w.WriteString("// externalCodeLists returns the external code lists the generated tables name in\n")
	w.WriteString("// Element.CodeList, as of the pyx12 snapshot. See Options.CodeList for which are checked.\n")
	w.WriteString("// It builds the map on each call: the package builds it once, on first use.\n")
	w.WriteString("func externalCodeLists() map[string][]string {\nreturn map[string][]string{\n")
	names := make([]string, 0, len(g.usedSets))
	for n := range g.usedSets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&w, "%q: %s,\n", n, stringList(g.codeSets[n], 12))
	}
	w.WriteString("}\n}\n")
	return gofmt(w.String())
}

// --- small helpers ---------------------------------------------------------

func gofmt(src string) ([]byte, error) {
	out, err := format.Source([]byte(src))
	if err != nil {
		return nil, fmt.Errorf("gofmt: %w\n%s", err, src)
	}
	return out, nil
}

func usage(u string) string {
	switch u {
	case "R":
		return "Required"
	case "S":
		return "Situational"
	case "N":
		return "NotUsed"
	}
	return fmt.Sprintf("Usage(%q)", u)
}

// count converts a repeat or max use: ">1" is unbounded (0).
func count(s string) int {
	if s == "" || strings.HasPrefix(s, ">") {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		log.Fatalf("bad count %q", s)
	}
	return n
}

func pos(n *xnode) int {
	p, err := strconv.Atoi(n.get("pos"))
	if err != nil {
		log.Fatalf("%s: bad pos %q", n.attr("xid"), n.get("pos"))
	}
	return p
}

func seq(n *xnode) int {
	s, _ := strconv.Atoi(n.get("seq"))
	return s
}

func sortByPos(ns []*xnode) []*xnode {
	sort.SliceStable(ns, func(i, j int) bool { return pos(ns[i]) < pos(ns[j]) })
	return ns
}

func ruleList(rules []*xnode) string {
	var s []string
	for _, r := range rules {
		s = append(s, strconv.Quote(strings.TrimSpace(r.Content)))
	}
	return "[]Rule{" + strings.Join(s, ", ") + "}"
}

// stringList writes a []string literal, perLine items to a line.
func stringList(items []string, perLine int) string {
	var b strings.Builder
	b.WriteString("[]string{")
	if len(items) > perLine {
		b.WriteString("\n")
	}
	for i, it := range items {
		b.WriteString(strconv.Quote(it))
		b.WriteString(",")
		if len(items) > perLine && (i+1)%perLine == 0 {
			b.WriteString("\n")
		} else if i < len(items)-1 {
			b.WriteString(" ")
		}
	}
	if len(items) > perLine && len(items)%perLine != 0 {
		b.WriteString("\n")
	}
	s := b.String()
	if len(items) <= perLine {
		s = strings.TrimSuffix(s, ",")
	}
	return s + "}"
}

// --- generic XML tree --------------------------------------------------------

type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []xnode    `xml:",any"`
	Content string     `xml:",chardata"`
}

func parseFile(path string) (*xnode, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var n xnode
	if err := xml.NewDecoder(bytes.NewReader(b)).Decode(&n); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &n, nil
}

func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// get returns an attribute or, failing that, a child element's text, as
// pyx12 reads its maps.
func (n *xnode) get(name string) string {
	if v := n.attr(name); v != "" {
		return v
	}
	if c := n.child(name); c != nil {
		return strings.Join(strings.Fields(c.Content), " ")
	}
	return ""
}

func (n *xnode) child(tag string) *xnode {
	for i := range n.Nodes {
		if n.Nodes[i].XMLName.Local == tag {
			return &n.Nodes[i]
		}
	}
	return nil
}

func (n *xnode) children(tag string) []*xnode { return n.nodes(tag) }

// nodes returns the direct children with any of the tags, in document order.
func (n *xnode) nodes(tags ...string) []*xnode {
	var out []*xnode
	for i := range n.Nodes {
		for _, t := range tags {
			if n.Nodes[i].XMLName.Local == t {
				out = append(out, &n.Nodes[i])
				break
			}
		}
	}
	return out
}

// all returns every descendant with the tag.
func (n *xnode) all(tag string) []*xnode {
	var out []*xnode
	for i := range n.Nodes {
		c := &n.Nodes[i]
		if c.XMLName.Local == tag {
			out = append(out, c)
		}
		out = append(out, c.all(tag)...)
	}
	return out
}

func (n *xnode) find(pred func(*xnode) bool) *xnode {
	for i := range n.Nodes {
		c := &n.Nodes[i]
		if pred(c) {
			return c
		}
		if f := c.find(pred); f != nil {
			return f
		}
	}
	return nil
}
