//! Reading input: non-regular files, symlinks, sizes over the limit, quadratic diagnostics, terminal escapes, amounts beyond the bounds, lost stdout, bad numeric options.
