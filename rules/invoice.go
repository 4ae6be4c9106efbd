package rules

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/fixedre"
)

// DefaultMemberIDPattern is the shape a Medi-Cal CIN must have: eight digits
// and a letter, the pattern of DHCS's own JSON submission schemas
// (docs/sources/dhcs-observed-formats.md B8, [P-grade schema text]). A plan
// changes it through member_id_pattern.
const DefaultMemberIDPattern = `^[0-9]{8}[A-Z]$`

// LineChecker applies the per-line rules that need no state: NPI and TIN
// checks, field relations, and the DHCS coding table. DUPLICATE-LINE needs
// the store and is decided by the caller with LineKey; the billing and
// member addresses need the roster and the 834 data (BillingAddress,
// MemberAddress).
// A LineChecker is not safe for concurrent use.
type LineChecker struct {
	Coding   *CodingTable
	Today    civil.Date     // dates of service after Today are rejected
	MemberID *regexp.Regexp // nil = DefaultMemberIDPattern

	memberID     *fixedre.Matcher // MemberID's matcher, made on first use
	memberIDFrom *regexp.Regexp   // the MemberID it was made from
}

var defaultMemberID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(DefaultMemberIDPattern) })

// memberIDMatcher returns the matcher of MemberID (a per-position table for
// a fixed-length pattern, as the default is: a tenth of regexp's time).
func (c *LineChecker) memberIDMatcher() *fixedre.Matcher {
	re := c.MemberID
	if re == nil {
		re = defaultMemberID()
	}
	if c.memberID == nil || c.memberIDFrom != re {
		c.memberID, c.memberIDFrom = fixedre.Compile(re), re
	}
	return c.memberID
}

// poBox matches a post office box or a lock box, which 005010X222A1 keeps
// out of the billing provider's N301 (they go to the pay-to address).
var poBox = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b(p\.?\s*o\.?\s*box|post\s+office\s+box|lock\s*box)\b`)
})

// Check applies the rules to l, which decoding has filled. It normalizes
// l.Billing.TIN and, when the invoice named a service instead of a code,
// fills l.HCPCS and l.Modifiers from the coding table. It returns the
// coding leg billed (nil when the code is not allowed) and the decisions
// against the line; skip lists fields that already failed to decode, so no
// rule reports them twice.
func (c *LineChecker) Check(l *domain.InvoiceLine, skip map[string]bool) (*CodeLeg, []Decision) {
	var ds []Decision
	add := func(rule, field, format string, a ...any) {
		ds = append(ds, Decision{Rule: rule, Field: field, Message: fmt.Sprintf(format, a...)})
	}
	if l.InvoiceNumber != "" && !skip["invoice_number"] {
		if d := CheckInvoiceNumber(l.InvoiceNumber); d != nil {
			ds = append(ds, *d)
		}
	}
	if l.Billing.NPI != "" && !skip["billing_npi"] && !ValidNPI(l.Billing.NPI) {
		add(NPIInvalid, "billing_npi", "billing_npi %q fails the NPI check digit", l.Billing.NPI)
	}
	if l.Rendering.NPI != "" && !skip["rendering_npi"] && !ValidNPI(l.Rendering.NPI) {
		add(NPIInvalid, "rendering_npi", "rendering_npi %q fails the NPI check digit", l.Rendering.NPI)
	}
	if l.Billing.TIN != "" {
		if tin, ok := NormalizeTIN(l.Billing.TIN); ok {
			l.Billing.TIN = tin
		} else {
			add(TINInvalid, "billing_tin", "billing_tin %q is not 9 digits", l.Billing.TIN)
		}
	}
	if re := c.memberIDMatcher(); l.Member.CIN != "" && !skip["member_cin"] && !re.MatchString(l.Member.CIN) {
		add(FieldInvalid, "member_cin", "member_cin does not have the shape of a Medi-Cal CIN (%s)", re.String())
	}
	if l.Rendering.NPI != "" && l.Rendering.NPI != l.Billing.NPI && l.Rendering.Name == "" {
		add(FieldMissing, "rendering_name", "rendering_name is required with rendering_npi (837P 2310B NM103)")
	}
	datesOK := l.From != 0 && l.To != 0
	if datesOK && l.To < l.From {
		add(FieldInvalid, "service_to", "service_to %s is before service_from %s", l.To, l.From)
		datesOK = false
	}
	if l.From != 0 && c.Today != 0 && l.From > c.Today {
		add(FieldInvalid, "service_from", "service_from %s is in the future", l.From)
		datesOK = false
	} else if l.To != 0 && c.Today != 0 && l.To > c.Today {
		add(FieldInvalid, "service_to", "service_to %s is in the future", l.To)
	}
	if l.Member.DOB != 0 {
		if c.Today != 0 && l.Member.DOB > c.Today {
			add(FieldInvalid, "member_dob", "member_dob is in the future")
		} else if l.From != 0 && l.Member.DOB > l.From {
			add(FieldInvalid, "member_dob", "member_dob is after the date of service")
		}
	}
	if !datesOK || skip["hcpcs"] || skip["modifiers"] {
		return nil, ds
	}
	leg, d := c.code(l)
	if d != nil {
		ds = append(ds, *d)
	}
	return leg, ds
}

// CheckInvoiceNumber decides INVOICE-NUMBER-UNSAFE for an invoice number:
// nil when it may become CLM01 and a spreadsheet cell as it is. The
// message names the character's position, not the number itself.
func CheckInvoiceNumber(n string) *Decision {
	unsafe := func(why string, i int) *Decision {
		return &Decision{Rule: InvoiceNumberUnsafe, Field: "invoice_number",
			Message: fmt.Sprintf("invoice_number %s (character %d)", why, i+1)}
	}
	if n != "" && strings.IndexByte("=+-@", n[0]) >= 0 {
		return unsafe(fmt.Sprintf("starts with %q, which a spreadsheet runs as a formula", n[0]), 0)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c < ' ' || c > '~':
			return unsafe("holds a control character or one outside printable ASCII", i)
		case strings.IndexByte("*~:^|\\", c) >= 0:
			return unsafe(fmt.Sprintf("holds %q, which X12 files reserve as a separator", c), i)
		}
	}
	return nil
}

// code finds the coding-table leg of the line on its first date of
// service and checks that the code stays in the table through its last.
func (c *LineChecker) code(l *domain.InvoiceLine) (*CodeLeg, *Decision) {
	dos := l.From
	if l.HCPCS == "" {
		leg, err := c.Coding.Resolve(l.Service, dos)
		if err != nil {
			return nil, &Decision{Rule: CodeNotAllowed, Field: "service", Message: "service: " + err.Error()}
		}
		if len(l.Modifiers) > 0 && !sameSet(l.Modifiers, leg.Modifiers) {
			return nil, &Decision{Rule: CodeNotAllowed, Field: "modifiers", Message: fmt.Sprintf(
				"modifiers %s do not match service %q, billed as %s", strings.Join(l.Modifiers, " "), l.Service, leg.Code())}
		}
		if d := c.inForceThrough(leg, l.To, "service"); d != nil {
			return nil, d
		}
		l.HCPCS, l.Modifiers = leg.HCPCS, leg.Modifiers
		return leg, nil
	}
	leg, res := c.Coding.Lookup(l.HCPCS, l.Modifiers, dos)
	code := strings.Join(append([]string{l.HCPCS}, l.Modifiers...), " ")
	switch res {
	case CodeUnknown:
		return nil, &Decision{Rule: CodeNotAllowed, Field: "hcpcs", Message: fmt.Sprintf("%s is not an ECM or Community Supports code in the DHCS coding table", l.HCPCS)}
	case ModifiersNotAllowed:
		allowed := c.Coding.AllowedFor(l.HCPCS, dos)
		msg := fmt.Sprintf("%s is not an allowed code and modifier set", code)
		if len(allowed) > 0 {
			msg += fmt.Sprintf(" on %s (allowed: %s)", dos, strings.Join(allowed, ", "))
		}
		return nil, &Decision{Rule: CodeNotAllowed, Field: "modifiers", Message: msg}
	case CodeNotInForce:
		return nil, &Decision{Rule: CodeNotAllowed, Field: "hcpcs", Message: fmt.Sprintf("%s is not in force on the date of service %s", code, dos)}
	}
	if d := c.inForceThrough(leg, l.To, "hcpcs"); d != nil {
		return nil, d
	}
	if l.Service != "" {
		if isLegName, same := c.Coding.namesLeg(l.Service, leg); isLegName && !same {
			return nil, &Decision{Rule: CodeNotAllowed, Field: "service", Message: fmt.Sprintf(
				"service %q does not match %s: it names a leg billed with another code or modifiers", l.Service, code)}
		} else if id, ok := c.Coding.ServiceID(l.Service); !isLegName && ok && id != leg.ServiceID {
			return nil, &Decision{Rule: CodeNotAllowed, Field: "service", Message: fmt.Sprintf(
				"service %q does not match %s, which is billed for %s", l.Service, code, leg.ServiceName)}
		}
	}
	return leg, nil
}

// inForceThrough decides CODE-NOT-ALLOWED for a line whose leg leaves the
// coding table before the line's last date of service.
func (c *LineChecker) inForceThrough(leg *CodeLeg, to civil.Date, field string) *Decision {
	day, ok := c.Coding.CoversThrough(leg, to)
	if ok {
		return nil
	}
	return &Decision{Rule: CodeNotAllowed, Field: field, Message: fmt.Sprintf(
		"%s is not in force on %s, a date of service of the line (service_to %s)", leg.Code(), day, to)}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// LineKey is the identity of an encounter line for duplicate detection, the
// fields a line-level duplicate key of DHCS's encounter system uses as far
// as public evidence shows (docs/sources/dhcs-observed-formats.md B5, [I]:
// a plan's professional-line duplicate edit, the best public proxy; DHCS
// denies such a line as 277CA STC*F2:54, [P]): the member (CIN), the line's
// service dates from and to, the rendering provider's NPI (else the billing
// provider's), the procedure code and the modifiers in any order. The NDC
// is part of that key when both lines carry one; invoice lines carry no
// NDC, so it never applies. Nothing else is in the key: units, charges and
// invoice numbers are not, so a line that DHCS would deny as a duplicate is
// never sent (docs/dhcs.md). It is a SHA-256 digest truncated to 128 bits.
type LineKey [16]byte

// Hi and Lo split the key into two integers for compact storage.
func (k LineKey) Hi() int64 { return int64(binary.BigEndian.Uint64(k[:8])) }
func (k LineKey) Lo() int64 { return int64(binary.BigEndian.Uint64(k[8:])) }

// KeyOf computes the duplicate-detection identity of l.
func KeyOf(l *domain.InvoiceLine) LineKey {
	mods := slices.Sorted(slices.Values(l.Modifiers))
	var b strings.Builder
	b.Grow(96)
	provider := l.Rendering.NPI
	if provider == "" {
		provider = l.Billing.NPI
	}
	for _, s := range []string{l.Member.CIN, provider, l.From.Compact(), l.To.Compact(), l.HCPCS, strings.Join(mods, " ")} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	sum := sha256.Sum256([]byte(b.String()))
	var k LineKey
	copy(k[:], sum[:16])
	return k
}
