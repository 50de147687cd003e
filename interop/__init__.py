"""Where clinicians are: FHIR R4 resources in, CDS Hooks cards out.

`fhir_bundle` reads and checks a Bundle (or a CDS Hooks prefetch), `fhir_case` turns its resources into the
engine's `Case` with every item it used or could not use listed, and `cds_hooks` builds the discovery document
and the cards. Pure functions over the store and plain data; the HTTP views are in `api/`.
"""
