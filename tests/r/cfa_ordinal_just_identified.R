# Golden values for CFAs with 0 degrees of freedom (one factor, three items): ordinal (one and
# two groups), MLR, and FIML (ML, MLR).
#
# Run from the repository root:  Rscript tests/r/cfa_ordinal_just_identified.R
# Writes tests/golden/cfa_ordinal/just_identified.json (jsonlite, digits = NA).
#
# lavaan 0.6-14, cfa(..., ordered = TRUE) (WLSMV, delta, scaled.shifted test) on custval's
# shipped bank_satisfaction (sat1-sat3, 0-10) with answers removed at random positions
# (written into the JSON) and missing = "pairwise".  With df = 0 lavaan reports the
# unscaled statistic as chisq.scaled (scaling factor NA) and a perfect fit for the
# .scaled and .robust indices (CFI/TLI 1, RMSEA 0 with CI 0-0, p-values NA).
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "cfa_ordinal")
d <- read.csv(file.path("custval", "_data", "bank_satisfaction", "bank_satisfaction.csv"))[, c("sat1", "sat2", "sat3")]
set.seed(16)
holes <- lapply(names(d), function(v) sort(sample(nrow(d), 12)))
names(holes) <- names(d)
for (v in names(d)) d[holes[[v]], v] <- NA
fit <- cfa("SAT =~ sat1 + sat2 + sat3", data = d, ordered = TRUE, missing = "pairwise")
stopifnot(lavInspect(fit, "converged"))
fm <- fitMeasures(fit)
pe <- parameterEstimates(fit)
res <- list(
  model = "SAT =~ sat1 + sat2 + sat3",
  lavaan_version = as.character(packageVersion("lavaan")),
  holes = lapply(holes, function(h) h - 1L),  # 0-based rows
  fit = as.list(setNames(as.numeric(fm), names(fm))),
  pe = lapply(as.list(pe[, c("lhs", "op", "rhs", "est", "se")]), function(v) { attributes(v) <- NULL; v })
)
# two groups (bfi's gender, listwise): the multi-group path
bfi <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))
fit_mg <- cfa("AGR =~ A2 + A3 + A4", data = bfi, ordered = TRUE, group = "gender")
res$model_groups <- "AGR =~ A2 + A3 + A4"
stopifnot(lavInspect(fit_mg, "converged"))
fm_mg <- fitMeasures(fit_mg)
res$fit_groups <- as.list(setNames(as.numeric(fm_mg), names(fm_mg)))
# the same three items as continuous, MLR (listwise): lavaan reports chisq.scaled = chisq,
# .scaled incremental indices 1, rmsea.scaled and its CI / p-values NA, the robust CI 0-0
fit_mlr <- cfa("AGR =~ A2 + A3 + A4", data = bfi, estimator = "MLR")
fm_mlr <- fitMeasures(fit_mlr)
res$fit_mlr <- as.list(setNames(as.numeric(fm_mlr), names(fm_mlr)))
# FIML (ML and MLR): Savalei's FIML-corrected robust indices with df 0 (kss / 0 = Inf in R)
for (est in c("ML", "MLR")) {
  f <- cfa("AGR =~ A2 + A3 + A4", data = bfi, estimator = est, missing = "fiml")
  res[[paste0("fit_fiml_", tolower(est))]] <- as.list(setNames(as.numeric(fitMeasures(f)), names(fitMeasures(f))))
}
# the MLR invariance ladder from a just-identified configural model (two groups): lavTestLRT's
# Satorra-Bentler (2001) difference sets the configural scaling factor to 1 (lavaan's r1 == 0 rule)
conf <- cfa("AGR =~ A2 + A3 + A4", data = bfi, group = "gender", estimator = "MLR")
metr <- cfa("AGR =~ A2 + A3 + A4", data = bfi, group = "gender", estimator = "MLR", group.equal = "loadings")
lrt <- lavTestLRT(conf, metr, method = "satorra.bentler.2001")
res$ladder_mlr <- list(chisq = lrt[["Chisq"]], df = lrt[["Df"]], chisq_diff = lrt[["Chisq diff"]][2],
                       df_diff = lrt[["Df diff"]][2], p_value = lrt[["Pr(>Chisq)"]][2])
write_json(res, file.path(out_dir, "just_identified.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("df", fm[["df"]], " chisq.scaled", fm[["chisq.scaled"]], " cfi.robust", fm[["cfi.robust"]], "\n")
