# Golden values for custval.cfa.CFA with ordered items in several groups and equality
# constraints: labels shared across groups (c(a, a)*x) and general linear '==' constraints
# across groups (lavaan 0.6-14, WLSMV, delta and theta parameterizations).
#
# Run from the repository root:  Rscript tests/r/cfa_ordinal_constraints.R [name ...]
# Writes tests/golden/cfa_ordinal_constraints/*.json (jsonlite, digits = NA).
#
# lavaan keeps the '==' rows (ceq.simple = FALSE): the estimates, robust standard errors
# (se = "robust.sem" from the constrained information) and the scaled-shifted test use the
# constrained model; df = statistics - free parameters + independent constraints.  Each case
# is fitted with nlminb and restarted from its solution with BFGS (lavaan's GN optimizer does
# not take equality constraints) while the projected gradient falls (max_abs_gradient).
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

only <- commandArgs(trailingOnly = TRUE)
want <- function(name) length(only) == 0L || name %in% only
out_dir <- file.path("tests", "golden", "cfa_ordinal_constraints")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
save <- function(x, name) {
  write_json(x, file.path(out_dir, paste0(name, ".json")), digits = NA,
             auto_unbox = TRUE, pretty = FALSE, na = "null")
}
cols <- function(df) {
  df <- as.data.frame(df)
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unclass(v))
  lapply(out, function(v) { attributes(v) <- NULL; v })
}
mat <- function(m) {
  m <- unclass(m)
  list(names = rownames(m), values = unname(lapply(seq_len(nrow(m)), function(i) unname(m[i, ]))))
}

# the gradient projected onto the constraint set (with '==' rows lavaan's gradient of the free
# parameters is not 0 at the constrained minimum)
pgrad <- function(fit) {
  g <- lavInspect(fit, "gradient")
  J <- fit@Model@con.jac
  if (nrow(J) > 0) g <- g - drop(t(J) %*% solve(J %*% t(J), J %*% g))
  max(abs(g))
}

case <- function(name, model, data, ...) {
  if (!want(name)) return(invisible(NULL))
  args <- list(...)
  fit <- do.call("cfa", c(list(model = model, data = data), args))
  optimizer <- "nlminb (default)"
  grad <- pgrad(fit)
  for (k in 1:5) {
    if (grad < 1e-9) break
    fit_b <- try(suppressWarnings(do.call("cfa", c(list(model = model, data = data, start = fit,
      optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 5000)), args))), silent = TRUE)
    if (inherits(fit_b, "try-error")) break
    g2 <- pgrad(fit_b)
    if (g2 < grad) { fit <- fit_b; grad <- g2; optimizer <- "BFGS (restarted from nlminb)" } else break
  }
  pe <- parameterEstimates(fit, standardized = TRUE)
  fm <- fitMeasures(fit)
  out <- list(
    lavaan_version = as.character(packageVersion("lavaan")),
    call = deparse(sys.call()),
    args = args,
    model = model,
    optimizer = optimizer, max_abs_gradient = grad,
    ntotal = lavInspect(fit, "ntotal"),
    params = cols(pe),
    fit = as.list(unclass(fm)),
    vcov = mat(lavInspect(fit, "vcov"))
  )
  save(out, name)
  cat(name, ": chisq", fm[["chisq"]], " df", fm[["df"]], " optimizer", optimizer, " gradient", grad, "\n")
  invisible(fit)
}

bfi <- raw("bfi")
ac <- c(paste0("A", 1:5), paste0("C", 1:5))
bfi_acg <- bfi[complete.cases(bfi[, c(ac, "gender")]), ]

# 1. equal loadings by labels shared across the two groups (bfi gender), delta
m_lab <- paste("A =~ A1 + c(a2, a2)*A2 + c(a3, a3)*A3 + A4 + A5",
               "C =~ C1 + c(c2, c2)*C2 + C3 + C4 + C5", sep = "\n")
case("groups_labels", m_lab, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender")

# 2. explicit '==' across groups: a simple equality and general linear constraints, delta;
#    defined parameters (:=) of parameters of both groups
m_eq <- paste("A =~ A1 + c(a2m, a2f)*A2 + c(a3m, a3f)*A3 + A4 + A5",
              "C =~ C1 + C2 + c(c3m, c3f)*C3 + c(c4m, c4f)*C4 + C5",
              "a2m == a2f", "c3m == 0.9 * c3f", "a3m + a3f == -3.8", "c4m - c4f == c3m - c3f",
              "dc4 := c4m - c4f", "q := a3m * c3f", sep = "\n")
case("groups_eq_delta", m_eq, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender")

# 3. the same constraints, theta parameterization
case("groups_eq_theta", m_eq, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender",
     parameterization = "theta")

# 4. equal thresholds (free scale factors and latent means in group 2) and '==' on loadings
#    and factor variances across groups
m_th <- paste("A =~ A1 + c(a2m, a2f)*A2 + A3 + A4 + A5",
              "C =~ C1 + C2 + C3 + C4 + C5",
              "A ~~ c(vm, vf)*A",
              "a2m == a2f", "vm == 1.2 * vf", sep = "\n")
case("groups_eq_thresholds", m_th, bfi_acg, ordered = TRUE, estimator = "WLSMV", group = "gender",
     group.equal = "thresholds")

# 5. DWLS (model-based standard errors, no scaled test) with the constraints of case 2
case("groups_eq_dwls", m_eq, bfi_acg, ordered = TRUE, estimator = "DWLS", group = "gender")
