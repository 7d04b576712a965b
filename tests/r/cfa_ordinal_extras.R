# Golden values for the ordinal CFA extras: CFA.modification_indices(), CFA.residuals() and
# CFA.standardized_solution() on fits with ordered items (tests/test_cfa_ordinal_extras.py).
#
# Run from the repository root:  Rscript tests/r/cfa_ordinal_extras.R
# Writes tests/golden/cfa_ordinal_extras/*.json (jsonlite, digits = NA = full precision).
#
# Reference: lavaan 0.6-14.  cfa(..., ordered = TRUE) with lavaan's defaults (WLSMV: DWLS
# estimates, se = "robust.sem", expected information), refitted from the nlminb solution with
# lavaan's Gauss-Newton optimizer when that lowers the gradient, or restarted with BFGS when
# equality constraints keep GN out (as tests/r/cfa_ordinal.R), then
#   standardizedSolution(fit)          (delta-method SEs with the robust vcov)
#   residuals(fit, type = "raw" / "cor"), lavResiduals(fit)
#   modindices(fit_mi)                 (expected information, the WLS.V weight).  modindices()
#                                      evaluates the extended model at the fit's *starting*
#                                      values (lav_object_extended uses the start column), so it
#                                      is computed on a GN refit from the solution (or, with
#                                      equality constraints, on the solution as its own start,
#                                      do.fit = FALSE; with '==' rows the gradient compared is
#                                      the one projected onto the constraint set).
# The sample statistics and DWLS weights are saved too (to evaluate the MI at lavaan's numbers).
# Data: the shipped bfi (agreeableness and conscientiousness, complete cases), the simulated
# skewed set of tests/r/cfa_ordinal.R (tests/golden/cfa_ordinal/sim_skewed.csv) in the delta and
# theta parameterizations and by ULSMV, bfi with a residual correlation and std.lv, and bfi in two
# groups (gender; configural, thresholds + loadings equal, and configural with a linear equality
# constraint a1 == 0.9*a2 between the A2 loadings of the two groups), and bfi in one group with
# linear constraints among the loadings (a2 + a3 == -3.6, c3 == 1).
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
res_list <- function(r) {  # a list per group, in group order
  if (!is.null(r$cov)) r <- list(r)
  unname(lapply(r, function(x) {
    out <- list(type = x$type, cov = mat(x$cov), th = vec(x$th))
    if (!is.null(x$cov.z)) { out$cov_z <- mat(x$cov.z); out$th_z <- vec(x$th.z) }
    out
  }))
}
sampstat <- function(fit) {  # per group
  ss <- lavInspect(fit, "sampstat")
  if (!is.null(ss$cov)) ss <- list(ss)
  wv <- lavTech(fit, "wls.v")
  lapply(seq_along(ss), function(g) list(cor = mat(ss[[g]]$cov), th = vec(ss[[g]]$th), wls_v = diag(wv[[g]])))
}

# the gradient projected onto the constraint set (with '==' rows lavaan's gradient of the free
# parameters is not 0 at the constrained minimum; without them: the gradient)
pgrad <- function(fit) {
  g <- lavInspect(fit, "gradient")
  J <- fit@Model@con.jac
  if (nrow(J) > 0) g <- g - drop(t(J) %*% solve(J %*% t(J), J %*% g))
  max(abs(g))
}

case <- function(name, model, data, ...) {
  args <- list(...)
  fit <- do.call("cfa", c(list(model = model, data = data), args))
  grad <- pgrad(fit)
  optimizer <- "nlminb (default)"
  fit_gn <- try(suppressWarnings(do.call("cfa", c(list(model = model, data = data,
    start = fit, optim.method = "GN", optim.gn.tol.x = 1e-12), args))), silent = TRUE)
  if (!inherits(fit_gn, "try-error") && isTRUE(lavInspect(fit_gn, "converged"))) {
    g2 <- pgrad(fit_gn)
    if (g2 < grad) { fit <- fit_gn; grad <- g2; optimizer <- "GN (from the nlminb solution)" }
  }
  if (grad > 1e-6) {  # GN does not take equality constraints: BFGS restarts from the solution
    for (k in 1:3) {
      fit_b <- try(suppressWarnings(do.call("cfa", c(list(model = model, data = data, start = fit,
        optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 5000)), args))), silent = TRUE)
      if (inherits(fit_b, "try-error")) break
      g2 <- pgrad(fit_b)
      if (g2 < grad) { fit <- fit_b; grad <- g2; optimizer <- "BFGS (restarted)" } else break
    }
  }
  linear_eq <- nrow(fit@Model@con.jac) > 0  # '==' rows: GN would move off the solution
  fit_mi <- if (linear_eq) NULL else try(suppressWarnings(do.call("cfa", c(list(model = model,
    data = data, start = fit, optim.method = "GN", optim.gn.tol.x = 1e-12), args))), silent = TRUE)
  if (linear_eq || inherits(fit_mi, "try-error")) {  # equality constraints: the solution, unfitted
    fit_mi <- suppressWarnings(do.call("cfa", c(list(model = model, data = data, start = fit,
      do.fit = FALSE), args)))
  }
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    call = deparse(sys.call()), args = args, optimizer = optimizer, max_abs_gradient = grad,
    params = cols(parameterEstimates(fit)),
    sampstat = sampstat(fit),
    std = cols(standardizedSolution(fit)),
    mi = cols(suppressWarnings(modindices(fit_mi))),
    # the standardization of the EPC (sepc / epc) is that of the fitted object (an unfitted one
    # standardizes by its starting latent variances)
    mi_fit = cols(suppressWarnings(modindices(fit))),
    resid_raw = res_list(residuals(fit, type = "raw")),
    resid_cor = res_list(residuals(fit, type = "cor")),
    lavresid = res_list(suppressWarnings(lavResiduals(fit)))  # (its summary warns: not compared)
  )
  write_json(out, file.path(out_dir, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = FALSE, na = "null")
  cat(name, ": optimizer", optimizer, " gradient", grad, "\n")
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
bfi_acg <- bfi[complete.cases(bfi[, c(ac, "gender")]), ]
case("bfi_groups", m_ac, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender")
case("bfi_groups_thload", m_ac, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender",
     group.equal = c("thresholds", "loadings"))
m_ac_con <- paste("A =~ A1 + c(a1,a2)*A2 + A3 + A4 + A5", "C =~ C1 + C2 + C3 + C4 + C5",
                  "a1 == 0.9*a2", sep = "\n")
case("bfi_groups_con", m_ac_con, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender")
m_eq <- paste("A =~ A1 + a2*A2 + a3*A3 + A4 + A5", "C =~ C1 + C2 + c3*C3 + C4 + C5",
              "a2 + a3 == -3.6", "c3 == 1", sep = "\n")
case("bfi_constraint", m_eq, bfi_ac, ordered = TRUE, estimator = "WLSMV")
