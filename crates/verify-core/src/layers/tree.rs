//! Layers applied in order, OCI whiteouts included: the final tree and what
//! each layer changed. (To be written; see issue 14, part 2.)
