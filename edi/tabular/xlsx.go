package tabular

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// An XLSX workbook is a ZIP archive of XML parts. This file finds the parts
// the reader needs: _rels/.rels names the workbook part, the workbook lists
// the sheets in order and its relationships name each sheet's part and the
// shared strings part. Every part is read through a guard that counts the
// inflated bytes against MaxPartSize; nothing is written to disk.

const (
	defaultWorkbook      = "xl/workbook.xml"
	defaultSharedStrings = "xl/sharedStrings.xml"
)

// workbook is an opened XLSX archive with its options resolved.
type workbook struct {
	opt   Options
	files map[string]*zip.File
}

func openWorkbook(r io.ReaderAt, size int64, opt Options) (*workbook, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("%w: %v", ErrNotTabular, err)
	}
	wb := &workbook{opt: opt, files: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		if _, dup := wb.files[f.Name]; !dup {
			wb.files[f.Name] = f
		}
	}
	return wb, nil
}

// part is one part being read: its inflated bytes are counted against
// MaxPartSize, and a part that inflates past the size it declares is
// refused (archive/zip reports that as ErrFormat).
type part struct {
	name     string
	rc       io.ReadCloser
	declared uint64
	max      int64
	n        int64
}

func (p *part) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	p.n += int64(n)
	if p.n > p.max {
		return 0, &LimitError{Limit: "MaxPartSize", Max: p.max, Part: p.name, Item: -1}
	}
	if errors.Is(err, zip.ErrFormat) {
		return n, &LimitError{Limit: "declared size", Max: int64(p.declared), Part: p.name, Item: -1}
	}
	return n, err
}

func (p *part) Close() error { return p.rc.Close() }

// open opens a part, or returns nil when the archive has no such part.
func (wb *workbook) open(name string) (*part, error) {
	f := wb.files[name]
	if f == nil {
		return nil, nil
	}
	if f.UncompressedSize64 > uint64(wb.opt.MaxPartSize) {
		return nil, &LimitError{Limit: "MaxPartSize", Max: wb.opt.MaxPartSize, Part: name, Item: -1}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("xlsx %s: %w", name, err)
	}
	return &part{name: name, rc: rc, declared: f.UncompressedSize64, max: wb.opt.MaxPartSize}, nil
}

// decoder reads the raw XML tokens of a part. encoding/xml holds a whole
// token in memory (a run of text, a tag, a comment), so the bytes the
// decoder takes for one token are counted against MaxTokenSize: a part of
// a hundred megabytes of spaces between two rows is refused, not buffered.
type decoder struct {
	x     *xml.Decoder
	guard *tokenGuard
}

// newDecoder returns a decoder over a part. Parts are UTF-8; a part
// declaring US-ASCII is read as is, and any other encoding is refused.
func newDecoder(p *part, maxToken int) *decoder {
	g := &tokenGuard{br: bufio.NewReaderSize(p, 64<<10), max: maxToken, part: p.name}
	x := xml.NewDecoder(g)
	x.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("XML encoding %q is not supported (only UTF-8)", label)
	}
	return &decoder{x: x, guard: g}
}

// RawToken returns the next token, without matching end elements to start
// elements or translating name space prefixes.
func (d *decoder) RawToken() (xml.Token, error) {
	d.guard.n = 0
	return d.x.RawToken()
}

// tokenGuard is the byte reader under the XML decoder, which reads one
// byte at a time; n counts the bytes taken since the last token.
type tokenGuard struct {
	br   *bufio.Reader
	n    int
	max  int
	part string
}

func (g *tokenGuard) ReadByte() (byte, error) {
	if g.n >= g.max {
		return 0, &LimitError{Limit: "MaxTokenSize", Max: int64(g.max), Part: g.part, Item: -1}
	}
	g.n++
	return g.br.ReadByte()
}

func (g *tokenGuard) Read(b []byte) (int, error) {
	if g.n >= g.max {
		return 0, &LimitError{Limit: "MaxTokenSize", Max: int64(g.max), Part: g.part, Item: -1}
	}
	if len(b) > g.max-g.n {
		b = b[:g.max-g.n]
	}
	n, err := g.br.Read(b)
	g.n += n
	return n, err
}

// eachElement calls fn for every start element of a small part (the
// package and workbook relationships, the workbook). A missing part calls
// nothing.
func (wb *workbook) eachElement(name string, fn func(xml.StartElement)) error {
	p, err := wb.open(name)
	if p == nil || err != nil {
		return err
	}
	defer p.Close()
	d := newDecoder(p, wb.opt.MaxTokenSize)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("xlsx %s: %w", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			fn(se)
		}
	}
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// relTarget resolves a relationship target against the directory of the
// part whose relationships name it.
func relTarget(from, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Clean(path.Join(path.Dir(from), target)), "/")
}

// relsPath is the relationships part of a part: xl/workbook.xml's is
// xl/_rels/workbook.xml.rels.
func relsPath(part string) string {
	dir, file := path.Split(part)
	return dir + "_rels/" + file + ".rels"
}

// firstSheet finds the part of the first sheet in the workbook's list and
// the shared strings part, and whether the workbook is in the 1904 date
// system.
func (wb *workbook) firstSheet() (name, sheetPart, sstPart string, date1904 bool, err error) {
	book := ""
	err = wb.eachElement("_rels/.rels", func(se xml.StartElement) {
		if se.Name.Local == "Relationship" && book == "" && strings.HasSuffix(attr(se, "Type"), "/officeDocument") {
			book = relTarget("", attr(se, "Target"))
		}
	})
	if err != nil {
		return "", "", "", false, err
	}
	if book == "" {
		book = defaultWorkbook
	}
	if wb.files[book] == nil {
		return "", "", "", false, fmt.Errorf("no workbook part %s: %w", book, ErrNotTabular)
	}
	found, id := false, ""
	err = wb.eachElement(book, func(se xml.StartElement) {
		if se.Name.Local == "workbookPr" {
			v := attr(se, "date1904")
			date1904 = v == "1" || v == "true"
		}
		if se.Name.Local == "sheet" && !found {
			found = true
			name = attr(se, "name")
			for _, a := range se.Attr {
				if a.Name.Local == "id" && a.Name.Space != "" {
					id = a.Value
				}
			}
		}
	})
	if err != nil {
		return "", "", "", false, err
	}
	if !found {
		return "", "", "", false, fmt.Errorf("workbook has no sheets: %w", ErrNotTabular)
	}
	err = wb.eachElement(relsPath(book), func(se xml.StartElement) {
		if se.Name.Local != "Relationship" {
			return
		}
		switch {
		case attr(se, "Id") == id && sheetPart == "":
			sheetPart = relTarget(book, attr(se, "Target"))
		case strings.HasSuffix(attr(se, "Type"), "/sharedStrings") && sstPart == "":
			sstPart = relTarget(book, attr(se, "Target"))
		}
	})
	if err != nil {
		return "", "", "", false, err
	}
	if sheetPart == "" || wb.files[sheetPart] == nil {
		return "", "", "", false, fmt.Errorf("sheet %q: the workbook has no part for it", name)
	}
	if sstPart == "" || wb.files[sstPart] == nil {
		sstPart = defaultSharedStrings
	}
	return name, sheetPart, sstPart, date1904, nil
}

// sharedStrings reads the shared string table, holding at most
// MaxSharedStrings bytes. A workbook without one has none.
func (wb *workbook) sharedStrings(name string) ([]string, error) {
	p, err := wb.open(name)
	if p == nil || err != nil {
		return nil, err
	}
	defer p.Close()
	d := newDecoder(p, wb.opt.MaxTokenSize)
	var (
		sst   []string
		total int64
		buf   []byte
	)
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return sst, nil
		}
		if err != nil {
			return nil, fmt.Errorf("xlsx %s: %w", name, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "si" {
			continue
		}
		if buf, err = readRichText(d, buf[:0], se.Name.Local); err != nil {
			return nil, fmt.Errorf("xlsx %s string %d: %w", name, len(sst), err)
		}
		s := unescapeOOXML(string(buf))
		total += int64(len(s)) + sharedStringOverhead
		if total > wb.opt.MaxSharedStrings {
			return nil, &LimitError{Limit: "MaxSharedStrings", Max: wb.opt.MaxSharedStrings, Part: name, Item: len(sst)}
		}
		sst = append(sst, s)
	}
}

// readRichText reads the rest of a string item (<si> or <is>) and appends
// its text: the item's own <t>, then the <t> of each rich-text run <r>.
// Phonetic runs (<rPh>) are not part of the text. When an element holds
// several <t>, the last one counts, as in excelize.
func readRichText(d *decoder, dst []byte, name string) ([]byte, error) {
	var own, runs []byte
	hasOwn := false
	for {
		tok, err := d.RawToken()
		if err != nil {
			return dst, noEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				own, err = readText(d, own[:0], "t")
				hasOwn = true
			case "r":
				runs, err = readRun(d, runs)
			default:
				err = skip(d, t.Name.Local)
			}
			if err != nil {
				return dst, err
			}
		case xml.EndElement:
			if err := closes(t, name); err != nil {
				return dst, err
			}
			if hasOwn {
				dst = append(dst, own...)
			}
			return append(dst, runs...), nil
		}
	}
}

// readRun reads the rest of a rich-text run and appends its text.
func readRun(d *decoder, dst []byte) ([]byte, error) {
	var text []byte
	for {
		tok, err := d.RawToken()
		if err != nil {
			return dst, noEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "t" {
				text, err = readText(d, text[:0], "t")
			} else {
				err = skip(d, t.Name.Local)
			}
			if err != nil {
				return dst, err
			}
		case xml.EndElement:
			return append(dst, text...), closes(t, "r")
		}
	}
}

// readText reads the rest of an element and appends its own character data,
// leaving out that of any element inside it. Spaces are kept (xml:space
// only tells a writer to keep them).
func readText(d *decoder, dst []byte, name string) ([]byte, error) {
	for {
		tok, err := d.RawToken()
		if err != nil {
			return dst, noEOF(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			dst = append(dst, t...)
		case xml.StartElement:
			if err := skip(d, t.Name.Local); err != nil {
				return dst, err
			}
		case xml.EndElement:
			return dst, closes(t, name)
		}
	}
}

// skip reads the rest of an element.
func skip(d *decoder, name string) error {
	depth := 1
	for {
		tok, err := d.RawToken()
		if err != nil {
			return noEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth--; depth == 0 {
				return closes(t, name)
			}
		}
	}
}

// closes checks that an end element closes the element named name. The
// decoder reads raw tokens, which it does not match up itself.
func closes(end xml.EndElement, name string) error {
	if end.Name.Local != name {
		return fmt.Errorf("XML syntax error: element <%s> closed by </%s>", name, end.Name.Local)
	}
	return nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// unescapeOOXML decodes the _xHHHH_ escapes OOXML uses in strings for
// characters XML cannot hold (_x000D_ is a carriage return, _x005F_ a
// literal underscore), left to right without overlaps. An escape of a code
// point that is not a character is dropped.
func unescapeOOXML(s string) string {
	i := strings.Index(s, "_x")
	if i < 0 {
		return s
	}
	var b bytes.Buffer
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		if s[i] == '_' && i+7 <= len(s) && s[i+1] == 'x' && s[i+6] == '_' {
			if r, ok := hex4(s[i+2 : i+6]); ok {
				if r < 0xD800 || r > 0xDFFF {
					b.WriteRune(r)
				}
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func hex4(s string) (rune, bool) {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
