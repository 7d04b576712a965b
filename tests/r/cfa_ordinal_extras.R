# Golden values for the ordinal CFA extras: CFA.modification_indices(), CFA.residuals() and
# CFA.standardized_solution() on fits with ordered items (tests/test_cfa_ordinal_extras.py).
#
# Run from the repository root:  Rscript tests/r/cfa_ordinal_extras.R
# Writes tests/golden/cfa_ordinal_extras/*.json (jsonlite, digits = NA = full precision).
#
# Reference: lavaan 0.6-14.  cfa(..., ordered = TRUE) with lavaan's defaults (WLSMV: DWLS
# estimates, se = "robust.sem", expected information), refitted from the nlminb solution with
# lavaan's Gauss-Newton optimizer when that lowers the gradient (as tests/r/cfa_ordinal.R), then
#   modindices(fit)                    (expected information, the WLS.V weight; lavaan evaluates it
#                                      at the fit's starting values, so the solution is refitted
#                                      once more from itself)
#   standardizedSolution(fit)          (delta-method SEs with the robust vcov)
#   residuals(fit, type = "raw" / "cor"), lavResiduals(fit)
# Data: the shipped bfi (agreeableness and conscientiousness, complete cases), the simulated
# skewed set of tests/r/cfa_ordinal.R (tests/golden/cfa_ordinal/sim_skewed.csv) in the delta and
# theta parameterizations, and bfi with a residual correlation and std.lv.
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "cfa_ordinal_extras")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
cols <- function(df) {
  df <- as.data.frame(df)
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unclass(v))
  lapply(out, function(v) { attributes(v) <- NULL; v })
}
mat <- function(m) {
  m <- unclass(m)
  list(names = rownames(m), values = unname(lapply(seq_len(nrow(m)), function(i) unname(m[i, ]))))
}
vec <- function(v) list(names = names(v), values = unname(as.numeric(v)))
res_list <- function(r) {
  if (!is.null(r$cov)) r <- list(r)
  lapply(r, function(x) {
    out <- list(type = x$type, cov = mat(x$cov), th = vec(x$th))
    if (!is.null(x$cov.z)) { out$cov_z <- mat(x$cov.z); out$th_z <- vec(x$th.z) }
    if (!is.null(x$summary)) out$summary <- list(names = rownames(x$summary), cols = cols(x$summary))
    out
  })
}

case <- function(name, model, data, ...) {
  args <- list(...)
  fit <- do.call("cfa", c(list(model = model, data = data), args))
  grad <- max(abs(lavInspect(fit, "gradient")))
  fit_gn <- try(suppressWarnings(do.call("cfa", c(list(model = model, data = data,
    start = fit, optim.method = "GN", optim.gn.tol.x = 1e-12), args))), silent = TRUE)
  if (!inherits(fit_gn, "try-error") && isTRUE(lavInspect(fit_gn, "converged"))) {
    g2 <- max(abs(lavInspect(fit_gn, "gradient")))
    if (g2 < grad) { fit <- fit_gn; grad <- g2 }
  }
  # modindices() evaluates the extended model at the fit's *starting* values (lav_object_extended
  # uses the start column): one more GN refit from the solution makes them equal to the estimates
  fit <- suppressWarnings(do.call("cfa", c(list(model = model, data = data, start = fit,
    optim.method = "GN", optim.gn.tol.x = 1e-12), args)))
  grad <- max(abs(lavInspect(fit, "gradient")))  # (ULSMV: GN stops at once, flagged not converged)
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    call = deparse(sys.call()), args = args, max_abs_gradient = grad,
    params = cols(parameterEstimates(fit)),
    # the sample statistics (thresholds, polychorics) and the DWLS weights, to evaluate the MI at lavaan's numbers
    sampstat = list(cor = mat(lavInspect(fit, "sampstat")$cov), th = vec(lavInspect(fit, "sampstat")$th),
                    wls_v = diag(lavTech(fit, "wls.v")[[1]])),
    std = cols(standardizedSolution(fit)),
    mi = cols(suppressWarnings(modindices(fit))),
    resid_raw = res_list(residuals(fit, type = "raw")),
    resid_cor = res_list(residuals(fit, type = "cor")),
    lavresid = res_list(lavResiduals(fit))
  )
  write_json(out, file.path(out_dir, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = FALSE, na = "null")
  cat(name, ": gradient", grad, "\n")
  invisible(fit)
}

bfi <- raw("bfi")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
bfi_ac <- bfi[complete.cases(bfi[, ac]), ]
m_ac <- "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5"
case("bfi_wlsmv", m_ac, bfi_ac, ordered = TRUE, estimator = "WLSMV")
case("bfi_rescov_stdlv", paste(m_ac, "A1 ~~ A2", sep = "\n"), bfi_ac, ordered = TRUE,
     estimator = "WLSMV", std.lv = TRUE)
sim <- read.csv(file.path("tests", "golden", "cfa_ordinal", "sim_skewed.csv"))
m_sim <- "F1 =~ q1 + q2 + q3 + q4\nF2 =~ q5 + q6 + q7 + q8\nF3 =~ q9 + q10 + q11 + q12"
case("sim_skewed", m_sim, sim, ordered = TRUE, estimator = "WLSMV")
case("sim_theta", m_sim, sim, ordered = TRUE, estimator = "WLSMV", parameterization = "theta")
case("sim_ulsmv", m_sim, sim, ordered = TRUE, estimator = "ULSMV")
