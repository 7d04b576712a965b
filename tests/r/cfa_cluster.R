# Golden values for custval.CFA(cluster=...): cluster-robust standard errors and
# scaled test statistics of single-level models (lavaan's cluster = argument).
#
# Run from the repository root:  Rscript tests/r/cfa_cluster.R
# Writes tests/golden/cfa/cluster.json (jsonlite, digits = NA = full precision).
#
# lavaan 0.6-14: with cluster = "<column>" in a single-level model lavaan sets
# se = "robust.cluster" and test = "yuan.bentler.mplus": with estimator = "MLR"
# the same sandwich and scaled test as without clusters, except that the
# first-order information uses casewise scores summed within
# clusters and multiplied by sqrt(C / (C - 1)) (C clusters)
# (lavaan:::lav_mvnorm_information_firstorder).  Every fit is run with lavaan's
# Gauss-Newton optimizer to convergence (gradient saved), as tests/r/cfa.R.
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

out_dir <- file.path("tests", "golden", "cfa")
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
cols <- function(df) {
  df <- as.data.frame(df)
  out <- lapply(df, function(v) if (is.factor(v)) as.character(v) else unclass(v))
  lapply(out, function(v) { attributes(v) <- NULL; v })
}
case <- function(model, data, ...) {
  args <- list(...)
  if (is.null(args$group.equal)) {
    fit <- cfa(model, data = data, ..., optim.method = "GN", optim.gn.tol.x = 1e-12,
               optim.gn.iter.max = 1000L)
  } else {
    # GN does not handle equality constraints in lavaan 0.6-14: nlminb, then a
    # BFGS restart from its solution (see tests/r/cfa.R)
    fit0 <- cfa(model, data = data, ...)
    fit <- cfa(model, data = data, ..., start = fit0, optim.method = "BFGS",
               control = list(reltol = 1e-16, maxit = 10000L))
    fit@Options$start <- "default"
  }
  if (!lavInspect(fit, "converged")) stop("the restart did not converge")
  fm <- fitMeasures(fit)
  list(
    call = list(...),
    model = model,
    lavaan_version = as.character(packageVersion("lavaan")),
    nobs = as.list(lavInspect(fit, "nobs")),
    nclusters = length(unique(data[[args$cluster]])),
    converged = lavInspect(fit, "converged"),
    max_abs_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
    options = list(information = lavInspect(fit, "options")$information,
                   observed_information = lavInspect(fit, "options")$observed.information,
                   h1_information = lavInspect(fit, "options")$h1.information,
                   se = lavInspect(fit, "options")$se,
                   test = lavInspect(fit, "options")$test),
    pe = cols(parameterEstimates(fit, standardized = TRUE)),
    fit = as.list(setNames(as.numeric(fm), names(fm)))
  )
}

hs <- raw("holzinger_swineford1939")
# clusters: consecutive blocks of 5 rows in file order (a deterministic stand-in
# for respondents nested in accounts); a second variable with unequal sizes
hs$cl5 <- (seq_len(nrow(hs)) - 1L) %/% 5L
hs$clx <- (seq_len(nrow(hs)) - 1L) %/% 3L + ifelse(seq_len(nrow(hs)) %% 7L == 0L, 1000L, 0L)
hs_model <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
# estimator = "ML" with cluster = also gives robust.cluster SEs, but lavaan then
# switches the test's observed information to "h1"; custval supports cluster=
# with estimator = "MLR" only (lavaan's documented robust estimator).
out <- list(
  mlr = case(hs_model, hs, estimator = "MLR", cluster = "cl5"),
  mlr_unequal = case(hs_model, hs, estimator = "MLR", cluster = "clx"),
  mlr_group = case(hs_model, hs, estimator = "MLR", cluster = "cl5", group = "school"),
  mlr_group_scalar = case(hs_model, hs, estimator = "MLR", cluster = "cl5", group = "school",
                          group.equal = c("loadings", "intercepts"))
)
write_json(out, file.path(out_dir, "cluster.json"), digits = NA, auto_unbox = TRUE,
           pretty = FALSE, na = "null")
cat("done\n")
