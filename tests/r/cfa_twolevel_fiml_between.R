# Golden values for custval.CFA(cluster=..., missing="fiml") with a between-only
# variable (a firm-level variable named only in 'level: 2', e.g. firm size).
#
# Run from the repository root:  Rscript tests/r/cfa_twolevel_fiml_between.R
# Writes tests/golden/cfa_twolevel_fiml/between_only{,_two}.csv and .json.
#
# Data: the unbalanced data of tests/r/cfa_twolevel_wb.R (70 firms, string ids,
# items y1-y3, between-only z constant within each firm) with 15% of y1-y3
# missing (MCAR), rows without an item answer left out, and z missing (blank in
# every row) for 4 firms.  lavaan 0.6-14's two-level ML with missing data
# (lav_mvnorm_cluster_missing_loglik_samplestats_2l) conditions the firms'
# answers on their observed between-only values; a firm without z contributes
# its answers only.  Fit: lavaan's default (nlminb), restarted with BFGS at
# reltol = 1e-16 from its solution (kept only if lavaan calls it converged).
# lavaan needs the rows sorted by firm (see tests/r/cfa_twolevel_fiml.R).
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "cfa_twolevel_fiml")
d <- read.csv(file.path("tests", "golden", "cfa_twolevel", "wb_unbalanced.csv"))
set.seed(7)
for (k in c("y1", "y2", "y3")) d[runif(nrow(d)) < 0.15, k] <- NA
d <- d[rowSums(!is.na(d[, c("y1", "y2", "y3")])) > 0, c("firm", "y1", "y2", "y3", "z")]
firms <- sort(unique(d$firm))
no_z <- firms[c(3, 17, 40, 61)]
d$z[d$firm %in% no_z] <- NA
rownames(d) <- NULL
write.csv(d, file.path(out_dir, "between_only.csv"), row.names = FALSE, na = "")
d <- read.csv(file.path(out_dir, "between_only.csv"))
model <- "
level: 1
  fw =~ y1 + y2 + y3
level: 2
  fb =~ y1 + y2 + y3 + z
"
cols <- function(df) {
  df <- as.data.frame(df)
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unclass(v))
  lapply(out, function(v) { attributes(v) <- NULL; v })
}
ds <- d[order(d$firm), ]
fit0 <- cfa(model, data = ds, cluster = "firm", missing = "ml")
fit <- cfa(model, data = ds, cluster = "firm", missing = "ml", start = fit0,
           optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000L))
if (!lavInspect(fit, "converged")) fit <- fit0
if (!lavInspect(fit, "converged")) stop("not converged")
fm <- fitMeasures(fit)
res <- list(model = model, data = "between_only.csv", std_lv = FALSE, firms_without_z = no_z,
            lavaan_version = as.character(packageVersion("lavaan")),
            nobs = lavInspect(fit, "nobs"), n_csv = nrow(d), nclusters = lavInspect(fit, "nclusters"),
            max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
            pe = cols(parameterEstimates(fit, standardized = TRUE)),
            fit = as.list(setNames(as.numeric(fm), names(fm))))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, "between_only.json"))
cat("between_only: chisq", res$fit$chisq, " logl", res$fit$logl, " h1", res$fit[["unrestricted.logl"]],
    " grad", res$max_abs_gradient, " nobs", res$nobs, " nclus", res$nclusters, "\n")

# Two between-only variables with different firms missing each (a firm may have z
# but not z2, z2 but not z, both or neither): z2 = 0.5 z + noise per firm.
set.seed(8)
z2f <- setNames(round(0.5 * tapply(d$z, d$firm, function(v) v[1]) + rnorm(length(firms)), 6), firms)
z2f[is.na(z2f)] <- round(rnorm(sum(is.na(z2f))), 6)
z2f[firms[c(3, 9, 25)]] <- NA
d2 <- d
d2$z2 <- unname(z2f[d2$firm])
write.csv(d2, file.path(out_dir, "between_only_two.csv"), row.names = FALSE, na = "")
d2 <- read.csv(file.path(out_dir, "between_only_two.csv"))
model2 <- "
level: 1
  fw =~ y1 + y2 + y3
level: 2
  fb =~ y1 + y2 + y3 + z + z2
"
ds2 <- d2[order(d2$firm), ]
fit0 <- cfa(model2, data = ds2, cluster = "firm", missing = "ml")
fit <- cfa(model2, data = ds2, cluster = "firm", missing = "ml", start = fit0,
           optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000L))
if (!lavInspect(fit, "converged")) fit <- fit0
if (!lavInspect(fit, "converged")) stop("not converged")
fm <- fitMeasures(fit)
res <- list(model = model2, data = "between_only_two.csv", std_lv = FALSE,
            lavaan_version = as.character(packageVersion("lavaan")),
            nobs = lavInspect(fit, "nobs"), n_csv = nrow(d2), nclusters = lavInspect(fit, "nclusters"),
            max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
            pe = cols(parameterEstimates(fit, standardized = TRUE)),
            fit = as.list(setNames(as.numeric(fm), names(fm))))
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(out_dir, "between_only_two.json"))
cat("between_only_two: chisq", res$fit$chisq, " logl", res$fit$logl, " h1", res$fit[["unrestricted.logl"]],
    " grad", res$max_abs_gradient, "\n")
