# Bootstrap replicates of composite reliability and AVE of ML / FIML CFA fits, refitted in
# lavaan on exactly custval's resamples (tests/test_cr_bootstrap.py).  Run from the repository root:
#   PYTHONPATH=$PWD python tests/r/cr_bootstrap_rows.py   # custval's resamples -> CSV
#   Rscript tests/r/cr_bootstrap.R
# R's random numbers cannot reproduce numpy's, so instead of
#   lavaan::bootstrapLavaan(fit, R = 1000, FUN = function(f) semTools::compRelSEM(f))
# this script runs the same FUN on the refits of the rows custval drew (the fixture
# tests/golden/validity/cr_boot_rows_<set>.csv: one column per resample, 1-based positions
# into the rows the fit used).  Each refit starts from lavaan's own default start values,
# as bootstrapLavaan's refits do.  lavaan stops its optimizer (nlminb, rel.tol = 1e-10 on
# the objective) short of the optimum custval reaches (gradient < 1e-7): CR / AVE agree to
# ~1e-6 in one group and ~1e-5 by school (the point estimates too); tightening rel.tol makes
# nlminb report false convergence rather than agree better.
# Data: Holzinger-Swineford (custval/_data/holzinger_swineford1939; lavaan's
# HolzingerSwineford1939), ML, one group and by school; the shipped bfi (custval/_data/bfi),
# A and C items keyed by hand (7 - x for A1, C4, C5), rows with at least one of the ten
# answers, missing = "ml" (FIML).  Writes tests/golden/validity/cr_bootstrap.json.
suppressPackageStartupMessages({
  library(lavaan)
  library(semTools)
  library(jsonlite)
})
hs <- read.csv(file.path("custval", "_data", "holzinger_swineford1939", "holzinger_swineford1939.csv"))
hs_model <- "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9"
bfi <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))
items <- c(paste0("A", 1:5), paste0("C", 1:5))
keyed <- bfi[items]
for (it in c("A1", "C4", "C5")) keyed[[it]] <- 7 - keyed[[it]]
keyed <- keyed[rowSums(!is.na(keyed)) > 0, ]
ac_model <- "agree =~ A1 + A2 + A3 + A4 + A5; consc =~ C1 + C2 + C3 + C4 + C5"
hs_school <- rbind(hs[hs$school == "Pasteur", ], hs[hs$school == "Grant-White", ])

# the values of one fit, in custval's table order (group, construct)
values <- function(fit) {
  # one group: a named vector; several: a data frame, a row per group (group column first)
  flat <- function(v) {
    if (is.data.frame(v)) return(as.vector(t(as.matrix(v[vapply(v, is.numeric, TRUE)]))))
    unlist(v)
  }
  list(cr_observed = unname(flat(compRelSEM(fit, obs.var = TRUE))),
       cr_implied = unname(flat(compRelSEM(fit, obs.var = FALSE))),
       ave_observed = unname(flat(AVE(fit, obs.var = TRUE))),
       ave_implied = unname(flat(AVE(fit, obs.var = FALSE))),
       converged = lavInspect(fit, "converged"))
}
sets <- list(
  hs = list(data = hs, fit = function(d) cfa(hs_model, data = d)),
  hs_school = list(data = hs_school,
                   fit = function(d) cfa(hs_model, data = d, group = "school")),
  bfi_fiml = list(data = keyed, fit = function(d) cfa(ac_model, data = d, missing = "ml"))
)
out <- list(versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                            semTools = as.character(packageVersion("semTools"))))
for (nm in names(sets)) {
  s <- sets[[nm]]
  rows <- read.csv(file.path("tests", "golden", "validity", paste0("cr_boot_rows_", nm, ".csv")))
  point <- values(s$fit(s$data))
  t0 <- proc.time()[["elapsed"]]
  reps <- lapply(names(rows), function(r) values(s$fit(s$data[rows[[r]], ])))
  out[[nm]] <- list(
    point = point,
    replicates = list(
      cr_observed = do.call(rbind, lapply(reps, `[[`, "cr_observed")),
      cr_implied = do.call(rbind, lapply(reps, `[[`, "cr_implied")),
      ave_observed = do.call(rbind, lapply(reps, `[[`, "ave_observed")),
      ave_implied = do.call(rbind, lapply(reps, `[[`, "ave_implied")),
      converged = vapply(reps, `[[`, TRUE, "converged")),
    n_rows = nrow(s$data), n_boot = ncol(rows),
    r_call = "FUN <- function(f) semTools::compRelSEM(f); FUN(lavaan::cfa(model, data = data[rows, ], ...))")
}
write_json(out, file.path("tests", "golden", "validity", "cr_bootstrap.json"), digits = NA,
           auto_unbox = TRUE, pretty = TRUE, na = "null")
