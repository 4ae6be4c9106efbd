// Package x274 writes and reads the DHCS provider network file: the ASC X12
// 274 Health Care Provider Information transaction, implementation guide
// 004050X109, as the DHCS 274 companion guide shapes it. It holds the
// hand-written table (Spec274, which Register adds to an ig.Registry with
// an NPI check-digit Check), a typed streaming Encoder
// that owns the envelopes, HL numbering and counts, and Read, its twin.
//
// # Shape written
//
//	ISA (ISA01 03, ISA02 reporting period YYMM, ISA06 TIN+HCP, ISA08 DHCS-PROV-NETWK, ISA12 00405)
//	GS*PW*<TIN>*DHCS-PROV-NETWK ... GS08 004050X109
//	ST*274*nnnn*004050X109
//	BHT*0028*<purpose>*<reference>*CCYYMMDD*HHMM
//	DTM*507*CCYYMMDD                           directory extract date (heading)
//	PER*BJ                                     submitter contact (heading)
//	HL*1**20*1    NM1*ACV*2*<plan>*****FI*<TIN>  2000A/2100A information source
//	              NM1*NN*2*DEFAULT             network name
//	HL*2*1*21*1   NM1*40*2*DHCS Managed Care   2000B/2100B information receiver, no ID
//	HL*n*2*4*1    NM1*QV*2*<organization>*****FI*<TIN>     2000C/2100C group
//	HL*n*g*N*0|1  NM1*77*2*<site>*****XX*<NPI>             2000D/2100DA site
//	              N2, PER*AJ, LUI*LE, DTP*092/093, QTY, REF
//	              NX1*77 N3 N4*city*st*zip**CY*<county>    2110DA site location
//	              LQ*<qualifier>*<code> ...                2120DA site specialization
//	HL*n*s*19*0   NM1*1P*1*<last>*<first>****XX*<NPI>      2000E/2100EA provider
//	SE GE IEA
//
// # Sources of the table (what comes from where)
//
// ASC X12 004050 base standard for the 274 (public segment directories of
// the 274 in releases 004030–007030; the 004050X109 TR3 itself is not
// public): functional group PW; the heading ST, BHT, DTM, PER; the one HL
// loop 2000 with its name loop 2100 (NM1, N2, PER, DMG, AMT, API, DEG, IND,
// LUI, DTP, MTX, QTY, WS, CRC, ...) and the LQ specialization loop;
// BHT01 0028 "Information Source, Information Receiver, Group, Site of
// Service, Provider"; HL03 codes 20, 21, 4 (Group), 19 (Provider of
// Service); element types and lengths of BHT, HL, NM1, N2, PER, LUI, DTP,
// QTY, REF, NX1, N3, N4, LQ.
//
// DHCS 274 Provider Directory Companion Guide v1.1 (May 2016, draft), facts
// recorded in ../shared/domain/dhcs-public-specs.md §4 [V]: version 004050,
// ISA08 and GS03 DHCS-PROVNETWK, ISA01 03 and a required ISA02 value, loops
// 2100DA Site and 2100EA Provider with 2120DA/2120EA, N2 "CLNC" and the CBAS
// indicator in 2100DA N202, monthly files, one per county served; DHCS
// derives provider categories from the submitted taxonomy.
//
// A production 274 a plan sent to DHCS (docs/sources/dhcs-observed-formats.md
// B7, [P]) settles, and the writer follows: ISA08/GS03 DHCS-PROV-NETWK (the
// guide's text copy reads DHCS-PROVNETWK; configurable), ISA02 YYMM, ISA06
// TIN+HCP and GS02 the TIN, heading DTM*507 and PER*BJ, NM1*ACV … FI <TIN>
// followed by NM1*NN*2*DEFAULT, NM1*40*2*DHCS Managed Care with no ID, one
// file per HCP code. Still written the gateway's way, although B7 shows
// otherwise (see docs/dhcs.md, "not done"): the group's NPI (XX) with the
// TIN in N2, the site's semicolon-composite N2 (county in N201 sub-field 4)
// instead of N4 CY, CRC*DJ*Y*1S, LQ*68 taxonomies each followed by TPB,
// and REF*N5 in three parts.
//
// Implementation evidence [I], a California Medi-Cal plan's public 274
// exporter for DHCS: ISA02 = reporting month CCYYMM with ISA01 03; ISA12
// 00405; ST03 004050X109; the five HL levels with HL03 20, 21, 4, "N" for
// the site level and 19; NM1*QV for the group, NM1*77 for the site,
// NM1*1P for the provider; PER*AJ for the site contact; LUI*LE; DTP 092
// (contract effective) and 093 (contract expiration); NX1*77 followed by
// N3/N4 for the site location; LQ (qualifier, code) for specializations;
// one file per county.
//
// Assumptions of this gateway [A], to verify with the current DHCS
// companion guide: the site level code "N" (not in the public 735 code
// lists seen; taken from the plan exporter); the group identified by its TIN (NM108 FI); N4 N405
// "CY" with the two-digit DHCS county code in N406 (the convention of the
// DHCS 834); the positions given to QTY (1400) and REF (1650) inside
// 2100DA; the 2110DA site location loop being required; no TPB, CRC, WS,
// PDI, DEG or affiliated-entity segments (the gateway has no data for
// them; they are reported as not in the set). How ECM and Community
// Supports show in the file is not in the public sources at all: the
// qualifiers and codes come from the replaceable mapping file
// rules/data/provider_file_274.csv, never from this package.
package x274
