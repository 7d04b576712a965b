# Golden values for ESEM blocks in custval.CFA: lavaan 0.6-14's efa("block")*factor syntax.
#
# Run from the repository root:  Rscript tests/r/cfa_esem.R
# Writes tests/golden/cfa_esem/<case>.json (jsonlite, digits = NA = full precision).
#
# lavaan's ESEM defaults (lavOptions("rotation.args")): rotation = "geomin", geomin.epsilon = .001,
# rstarts = 30, std.ov = TRUE, row.weights = "none" (geomin), reflect = TRUE, order.lv.by = "index",
# gpa.tol = 1e-5, rotation.se = "bordered".
#   hs_efa3:   one efa block of three factors on x1-x9 of Holzinger & Swineford (1939)
#              (= efa(data, nfactors = 3)).
#   hs_esem:   lavaan's ESEM tutorial: an efa block (visual, textual) on x1-x6 plus the CFA factor
#              speed =~ x7 + x8 + x9, with the factor correlations.
#   hs_sem:    the same with speed regressed on the efa factors (lavaan::sem()).
#   bfi_esem:  bfi agreeableness/conscientiousness items A1-A5, C1-C5 (complete rows of A, C, E) as
#              one efa block of two factors plus the CFA factor E =~ E1 + ... + E5.
#   bfi_two:   two efa blocks: (f1, f2) on A1-A5, C1-C5 and (f3, f4) on E1-E5, N1-N5 (complete rows
#              of the 20 items), their factors correlated across blocks.
# For each fit: parameterEstimates(fit, standardized = TRUE) (est, se, std.all), the parameter
# table's free / user / est.unrotated / est.std / se.std, all fitMeasures(), lavaan's npar.
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "cfa_esem")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

hs <- read.csv(file.path("custval", "_data", "holzinger_swineford1939", "holzinger_swineford1939.csv"))
bfi <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))

# (cfa() and sem() take lavaan's model.type from the name they are called by: call them by name)
fit_one <- function(model, data, use_sem) {
  if (use_sem) sem(model, data = data, rotation = "geomin") else cfa(model, data = data, rotation = "geomin")
}
one <- function(model, data, name, use_sem = FALSE) {
  set.seed(20261207)
  fit <- fit_one(model, data, use_sem)
  pe <- parameterEstimates(fit, standardized = TRUE)
  pt <- fit@ParTable
  fm <- fitMeasures(fit)
  res <- list(model = model, n = nobs(fit), converged = lavInspect(fit, "converged"),
              params = data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, est = pe$est, se = pe$se,
                                  std_lv = pe$std.lv, std_all = pe$std.all),
              partable = data.frame(lhs = pt$lhs, op = pt$op, rhs = pt$rhs, free = pt$free,
                                    user = pt$user, efa = pt$efa, est = pt$est, se = pt$se,
                                    est_unrotated = pt$est.unrotated,
                                    est_std = pt$est.std, se_std = pt$se.std),
              fit_measures = as.list(setNames(as.numeric(fm), names(fm))))
  # lavaan's answer depends on R's seed only through its rotation tolerance (gpa.tol = 1e-5)
  # (a refit whose rotation or standard errors fail under some seed is counted in seed_failures)
  spread <- 0
  failures <- 0
  for (s in 1:3) {
    set.seed(s)
    f2 <- tryCatch(suppressWarnings(fit_one(model, data, use_sem)), error = function(e) NULL)
    if (is.null(f2) || !lavInspect(f2, "converged") || anyNA(parameterEstimates(f2)$se)) {
      failures <- failures + 1
    } else {
      spread <- max(spread, max(abs(parameterEstimates(f2)$est - pe$est)))
    }
  }
  res$seed_spread <- spread
  res$seed_failures <- failures
  write_json(res, file.path(out_dir, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = TRUE, na = "null")
}

hs9 <- paste(paste0("x", 1:9), collapse = " + ")
one(paste0('efa("efa")*f1 + efa("efa")*f2 + efa("efa")*f3 =~ ', hs9), hs, "hs_efa3")
one('efa("efa")*visual + efa("efa")*textual =~ x1 + x2 + x3 + x4 + x5 + x6
     speed =~ x7 + x8 + x9', hs, "hs_esem")
one('efa("efa")*visual + efa("efa")*textual =~ x1 + x2 + x3 + x4 + x5 + x6
     speed =~ x7 + x8 + x9
     speed ~ visual + textual', hs, "hs_sem", use_sem = TRUE)
items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5))
bfi15 <- bfi[complete.cases(bfi[, items]), items]
one('efa("ac")*f1 + efa("ac")*f2 =~ A1 + A2 + A3 + A4 + A5 + C1 + C2 + C3 + C4 + C5
     E =~ E1 + E2 + E3 + E4 + E5', bfi15, "bfi_esem")
items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5))
bfi20 <- bfi[complete.cases(bfi[, items]), items]
one('efa("ac")*f1 + efa("ac")*f2 =~ A1 + A2 + A3 + A4 + A5 + C1 + C2 + C3 + C4 + C5
     efa("en")*f3 + efa("en")*f4 =~ E1 + E2 + E3 + E4 + E5 + N1 + N2 + N3 + N4 + N5', bfi20, "bfi_two")
cat("done\n")
