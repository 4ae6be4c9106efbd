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
//	HL*n*2*4*1    NM1*QV*2*<organization>*****XX*<group NPI>  2000C/2100C group
//	              N2*<TIN>                   (without a group NPI: NM1 … FI <TIN>, no N2)
//	HL*n*g*N*0|1  NM1*77*2*<site>*****XX*<NPI>             2000D/2100DA site
//	              N2*<N201 composite>*<N202 composite>     12 and 6 ;-separated sub-fields, county in N201-4
//	              PER*AJ, LUI*LE, DTP*092/093, QTY
//	              CRC*DJ*Y*1S
//	              NX1*77 N3 N4*city*st*zip                 2110DA site location (N4 CY only when the mapping says so)
//	              LQ*68*<taxonomy> TPB*3G|3E, LQ*…         2120DA site specialization, each LQ with its TPB
//	              REF*N5*<a>;<b>;<c>                       site identifiers, after the specializations
//	HL*n*s*19*0   NM1*1P*1*<last>*<first>****XX*<NPI>      2000E/2100EA provider (LQ and TPB when given)
//	SE GE IEA
//
// # Sources of the table (what comes from where)
//
// ASC X12 004050 base standard for the 274 (public segment directories of
// the 274 in releases 004030–007030; the 004050X109 TR3 itself is not
// public): functional group PW; the heading ST, BHT, DTM, PER; the one HL
// loop 2000 with its name loop 2100 (NM1, N2, PER, DMG, AMT, API, DEG, IND,
// LUI, DTP, MTX, QTY, WS, CRC, ...), the LQ specialization loop (LQ, N1,
// TPB, DTP, QTY, YNQ) and the REF loop after it;
// BHT01 0028 "Information Source, Information Receiver, Group, Site of
// Service, Provider"; HL03 codes 20, 21, 4 (Group), 19 (Provider of
// Service); element types and lengths of BHT, HL, NM1, N2, PER, LUI, DTP, CRC, TPB,
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
// file per HCP code; the group identified by its NPI (XX) with the TIN in
// N2; the site's N2 as two semicolon composites (N201 12 sub-fields with
// the county in sub-field 4, N202 6; Composite, SubField, Site.CountyCode)
// and no N4 CY; CRC*DJ*Y*1S on every site; LQ*68 taxonomies each followed
// by a TPB (3G or 3E); REF*N5 in three parts after the specializations
// (the order the 004050 274 gives the LQ and REF loops). This package
// writes whatever N2 sub-fields, CRC, LQ/TPB and REF values it is given:
// their values, and every sub-field whose meaning is not public, come from
// the mapping file (rules/data/provider_file_274.csv), never from here.
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
// lists seen; taken from the plan exporter); the group identified by its
// TIN (NM108 FI) when the roster gives no group NPI; the positions given to
// QTY (1400), CRC (1500) and REF (2200, a segment of 2100DA after the 2120DA
// loop) inside 2100DA and TPB (2150) inside the LQ loops, and their
// loop names (the 004050X109 loop IDs are not public); the 2110DA site
// location loop being required; the group's DTP, LQ/TPB and REF, the
// provider's N2, DTP and REF and the site's affiliated entities (2100DB
// NM1*30 … EQ, read into Site.Affiliated) are in the table (the
// production file has them) but not written (no roster data); no WS, PDI
// or DEG segments (reported as not in the set); TPB01 and CRC codes are not
// checked against a code list (their meanings are not public). How ECM
// and Community Supports show in the file is not in the public sources at
// all: the qualifiers and codes come from the replaceable mapping file,
// flagged as assumptions there.
package x274
