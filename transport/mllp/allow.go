package mllp

import (
	"fmt"
	"net/netip"
	"strings"
)

// AllowRule admits senders. Every field set must match: From (the
// connection's remote address is in one of these prefixes; none = any
// address), SendingApplication (the first component of MSH-3, the
// namespace ID, exactly; "" = any) and SendingFacility (the same for MSH-4).
type AllowRule struct {
	From               []netip.Prefix
	SendingApplication string
	SendingFacility    string
}

// AllowList admits a sender when one of its rules matches; an empty list
// admits everyone. It is checked twice: at connection, by address only (a
// connection no rule's From admits is closed at once, before anything is
// read), and per message, by address and MSH-3/MSH-4 (a message no rule
// admits is answered AR and not stored).
type AllowList []AllowRule

// AdmitsAddr reports whether some rule admits the address.
func (l AllowList) AdmitsAddr(ip netip.Addr) bool {
	if len(l) == 0 {
		return true
	}
	for _, r := range l {
		if r.fromOK(ip) {
			return true
		}
	}
	return false
}

// AdmitsMessage reports whether some rule admits a message from ip whose
// MSH-3 and MSH-4 first components are app and facility.
func (l AllowList) AdmitsMessage(ip netip.Addr, app, facility string) bool {
	if len(l) == 0 {
		return true
	}
	for _, r := range l {
		if r.fromOK(ip) && (r.SendingApplication == "" || r.SendingApplication == app) &&
			(r.SendingFacility == "" || r.SendingFacility == facility) {
			return true
		}
	}
	return false
}

func (r AllowRule) fromOK(ip netip.Addr) bool {
	if len(r.From) == 0 {
		return true
	}
	for _, p := range r.From {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParsePrefix reads an address (10.1.2.3, ::1) or a CIDR prefix (10.1.0.0/16);
// an IPv4-mapped one (::ffff:10.1.2.3, ::ffff:10.1.0.0/112) is the IPv4
// address or prefix it maps.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("%q is not an address or CIDR prefix", s)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// Peers' addresses are compared unmapped (10.0.0.1, never
			// ::ffff:10.0.0.1), so an IPv4-mapped prefix is read as the
			// IPv4 prefix it maps.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR prefix", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
