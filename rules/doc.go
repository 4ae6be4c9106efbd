// Package rules decides whether an invoice line may become a DHCS encounter.
// Rules are small pure functions over data; the tables they read (the DHCS
// ECM/CS coding table and, later, eligibility and authorization facts) are
// versioned data with effective dates and a source note, loaded at start and
// replaceable by a plan without a code change.
package rules
