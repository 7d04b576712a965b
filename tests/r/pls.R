# Golden values for custval.pls (PLS path modelling), computed by seminr's own estimation code.
#
# Run from the repository root:
#   SEMINR_SRC=/path/to/seminr Rscript tests/r/pls.R
# SEMINR_SRC is a checkout (or `git archive`) of https://github.com/sem-in-r/seminr at commit
# ae2524aae5f4f0bda3eb87faf80378af5baccea1 (seminr 2.3.1, the commit the repository's mobi and
# corp_rep data come from).  seminr itself need not be installed: the script evaluates the files
# in $SEMINR_SRC/R/*.R into an environment, with "seminr::" prefixes removed (estimate_pls() calls
# seminr::simplePLS()).  Only base R and jsonlite are needed for the PLS functions used here.
#
# Writes tests/golden/pls/seminr.json and seminr_bootstrap.json (jsonlite, digits = NA = full precision).  Each case holds
# the seminr call, the equivalent custval model syntax and options, and seminr's estimates.
#
# Missing-data rule: mobi has no missing values.  corp_rep codes missing as -99; the case
# "corp_rep_mean" uses seminr's default mean replacement (missing_value = "-99",
# missing = mean_replacement), which custval performs only when asked (missing = "mean").
suppressPackageStartupMessages(library(jsonlite))

src <- Sys.getenv("SEMINR_SRC")
if (!nzchar(src)) {
  # `make golden` runs every tests/r/*.R: without a seminr source tree, keep the committed files.
  message("SEMINR_SRC is not set: tests/golden/pls left unchanged (see the header of tests/r/pls.R)")
  quit(save = "no", status = 0)
}
if (!dir.exists(file.path(src, "R"))) {
  stop("SEMINR_SRC must be a seminr source tree with an R/ folder (commit ae2524aa); got ", src)
}
seminr <- new.env()
for (f in sort(list.files(file.path(src, "R"), pattern = "[.]R$", full.names = TRUE))) {
  code <- gsub("seminr::", "", readLines(f, warn = FALSE), fixed = TRUE)
  eval(parse(text = code, keep.source = FALSE), envir = seminr)
}
attach(seminr, name = "seminr_src", warn.conflicts = FALSE)

out_dir <- file.path("tests", "golden", "pls")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
mat <- function(m) {
  m <- as.matrix(unclass(m))
  list(rows = rownames(m), cols = colnames(m),
       values = unname(lapply(seq_len(nrow(m)), function(i) unname(as.numeric(m[i, ])))))
}

mobi <- raw("mobi")
corp <- raw("corp_rep")

run <- function(call, syntax, options, data, mm, sm, inner = path_weighting, scores = FALSE,
                missing_value = NA, dataset = "mobi") {
  fit <- suppressMessages(estimate_pls(data, mm, sm, inner_weights = inner,
                                       missing_value = missing_value))
  cn <- constructs_in_model(fit)$construct_names
  rel <- suppressMessages(reliability(fit))
  out <- list(
    call = call, dataset = dataset, syntax = syntax, options = options,
    n = nrow(fit$data), iterations = fit$iterations,
    weights = mat(fit$outer_weights), loadings = mat(fit$outer_loadings),
    paths = mat(fit$path_coef), rsquared = mat(fit$rSquared),
    rho_a = mat(rho_A(fit, cn)), reliability = mat(rel[, c("alpha", "rhoC", "AVE", "rhoA")]),
    htmt = mat(HTMT(fit)), construct_cors = mat(stats::cor(fit$construct_scores))
  )
  if (scores) out$scores <- mat(fit$construct_scores)
  out
}

cases <- list()

# -- seminr tests/testthat/test-inner_weighting.R, test-summary.R, test-metric.R (composites, mode A)
mm4c <- constructs(
  composite("Image",        multi_items("IMAG", 1:5), weights = mode_A),
  composite("Expectation",  multi_items("CUEX", 1:3), weights = mode_A),
  composite("Value",        multi_items("PERV", 1:2), weights = mode_A),
  composite("Satisfaction", multi_items("CUSA", 1:3), weights = mode_A))
sm4 <- relationships(paths(to = "Satisfaction", from = c("Image", "Expectation", "Value")))
syn4 <- paste("Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
              "Expectation =~ CUEX1 + CUEX2 + CUEX3",
              "Value =~ PERV1 + PERV2",
              "Satisfaction =~ CUSA1 + CUSA2 + CUSA3",
              "Satisfaction ~ Image + Expectation + Value", sep = "\n")
cases$composite4_path <- run(
  "estimate_pls(mobi, mm4c, sm4, inner_weights = path_weighting)  # mm4c: composite(..., weights = mode_A)",
  syn4, list(weighting = "path", consistent = FALSE), mobi, mm4c, sm4, path_weighting, scores = TRUE)
cases$composite4_factorial <- run(
  "estimate_pls(mobi, mm4c, sm4, inner_weights = path_factorial)",
  syn4, list(weighting = "factorial", consistent = FALSE), mobi, mm4c, sm4, path_factorial, scores = TRUE)

# -- seminr tests/testthat/test-consistent.R (reflective = PLSc)
mm4r <- constructs(
  reflective("Image",        multi_items("IMAG", 1:5)),
  reflective("Expectation",  multi_items("CUEX", 1:3)),
  reflective("Value",        multi_items("PERV", 1:2)),
  reflective("Satisfaction", multi_items("CUSA", 1:3)))
cases$reflective4_factorial <- run(
  "estimate_pls(mobi, mm4r, sm4, inner_weights = path_factorial)  # mm4r: reflective(...) -> PLSc",
  syn4, list(weighting = "factorial", consistent = TRUE), mobi, mm4r, sm4, path_factorial)
cases$reflective4_path <- run(
  "estimate_pls(mobi, mm4r, sm4, inner_weights = path_weighting)",
  syn4, list(weighting = "path", consistent = TRUE), mobi, mm4r, sm4, path_weighting)

# -- seminr tests/testthat/test-measure.r (modes A, B, unit weights, single items, reflective)
mm_mix <- constructs(
  reflective("Image",        multi_items("IMAG", 1:5)),
  reflective("Quality",      single_item("PERQ1")),
  composite("Satisfaction",  multi_items("CUSA", 1:3), weights = regression_weights),
  composite("Complaints",    single_item("CUSCO"), weights = correlation_weights),
  composite("Value",         multi_items("PERV", 1:2), unit_weights))
sm_mix <- relationships(
  paths(from = "Image", to = "Satisfaction"), paths(from = "Quality", to = "Satisfaction"),
  paths(from = "Complaints", to = "Satisfaction"), paths(from = "Value", to = "Satisfaction"))
syn_mix <- paste("Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
                 "Quality =~ PERQ1",
                 "Satisfaction <~ CUSA1 + CUSA2 + CUSA3",
                 "Complaints =~ CUSCO",
                 "Value =~ PERV1 + PERV2",
                 "Satisfaction ~ Image + Quality + Complaints + Value", sep = "\n")
cases$mixed_modes <- run(
  "estimate_pls(data = mobi, measurement_model = mm_mix, structural_model = sm_mix)",
  syn_mix, list(weighting = "path", consistent = list("Image", "Quality"), mode = list(Value = "unit")),
  mobi, mm_mix, sm_mix, path_weighting)

# -- the ECSI model of seminr's documentation and demo/seminr-pls-ecsi.R
ecsi_sm <- relationships(
  paths(from = "Image",        to = c("Expectation", "Satisfaction", "Loyalty")),
  paths(from = "Expectation",  to = c("Quality", "Value", "Satisfaction")),
  paths(from = "Quality",      to = c("Value", "Satisfaction")),
  paths(from = "Value",        to = c("Satisfaction")),
  paths(from = "Satisfaction", to = c("Complaints", "Loyalty")),
  paths(from = "Complaints",   to = "Loyalty"))
ecsi_blocks <- list(Image = multi_items("IMAG", 1:5), Expectation = multi_items("CUEX", 1:3),
                    Quality = multi_items("PERQ", 1:7), Value = multi_items("PERV", 1:2),
                    Satisfaction = multi_items("CUSA", 1:3), Complaints = "CUSCO",
                    Loyalty = multi_items("CUSL", 1:3))
ecsi_mm <- function(kind) do.call(constructs, unname(lapply(names(ecsi_blocks), function(k)
  if (kind == "composite") composite(k, ecsi_blocks[[k]]) else reflective(k, ecsi_blocks[[k]]))))
syn_ecsi <- paste(c(
  vapply(names(ecsi_blocks), function(k) paste(k, "=~", paste(ecsi_blocks[[k]], collapse = " + ")), ""),
  "Expectation ~ Image", "Quality ~ Expectation", "Value ~ Expectation + Quality",
  "Satisfaction ~ Image + Expectation + Quality + Value", "Complaints ~ Satisfaction",
  "Loyalty ~ Image + Satisfaction + Complaints"), collapse = "\n")
cases$ecsi_pls <- run(
  "estimate_pls(data = mobi, measurement_model = mobi_mm, structural_model = mobi_sm)  # composite(): mode A",
  syn_ecsi, list(weighting = "path", consistent = FALSE), mobi, ecsi_mm("composite"), ecsi_sm, scores = TRUE)
cases$ecsi_plsc <- run(
  "estimate_pls(data = mobi, measurement_model = mobi_mm, structural_model = mobi_sm)  # reflective(): PLSc",
  syn_ecsi, list(weighting = "path", consistent = TRUE), mobi, ecsi_mm("reflective"), ecsi_sm)
cases$ecsi_pls_factorial <- run(
  "estimate_pls(mobi, mobi_mm, mobi_sm, inner_weights = path_factorial)  # composite(): mode A",
  syn_ecsi, list(weighting = "factorial", consistent = FALSE), mobi, ecsi_mm("composite"), ecsi_sm,
  path_factorial)
mm_b <- do.call(constructs, unname(lapply(names(ecsi_blocks), function(k)
  if (k == "Image") composite(k, ecsi_blocks[[k]], weights = mode_B) else composite(k, ecsi_blocks[[k]]))))
cases$ecsi_image_mode_b <- run(
  "estimate_pls(mobi, mobi_mm, mobi_sm)  # Image: composite(..., weights = mode_B), others mode A",
  sub("Image =~", "Image <~", syn_ecsi, fixed = TRUE), list(weighting = "path", consistent = FALSE),
  mobi, mm_b, ecsi_sm)

# -- seminr tests/testthat/test_clean_data.R (corp_rep, -99 = missing, mean replacement)
corp_mm <- constructs(
  composite("COMP", multi_items("comp_", 1:3)), composite("LIKE", multi_items("like_", 1:3)),
  composite("CUSA", single_item("cusa")), composite("CUSL", multi_items("cusl_", 1:3)))
corp_sm <- relationships(paths(from = c("COMP", "LIKE"), to = c("CUSA", "CUSL")),
                         paths(from = c("CUSA"), to = c("CUSL")))
cases$corp_rep_mean <- run(
  "estimate_pls(corp_rep_data, corp_rep_mm, corp_rep_sm, missing = mean_replacement, missing_value = '-99')",
  paste("COMP =~ comp_1 + comp_2 + comp_3", "LIKE =~ like_1 + like_2 + like_3", "CUSA =~ cusa",
        "CUSL =~ cusl_1 + cusl_2 + cusl_3", "CUSA ~ COMP + LIKE", "CUSL ~ COMP + LIKE + CUSA", sep = "\n"),
  list(weighting = "path", consistent = FALSE, missing = "mean", missing_codes = list(-99)),
  corp, corp_mm, corp_sm, missing_value = "-99", dataset = "corp_rep")

# -- bootstrap: seminr's bootstrap_model() resampling loop, run serially (bootstrap_model() calls
#    seminr::estimate_pls() in parallel workers, which needs an installed seminr).  Each resample i
#    uses set.seed(seed + i); sample.int(n, replace = TRUE), exactly as getEstimateResults() in
#    R/estimate_bootstrap.R; the summaries are seminr's parse_boot_array() (Original Est.,
#    Bootstrap Mean, Bootstrap SD, T Stat., 2.5% CI, 97.5% CI).  The row indices are saved so
#    that custval can resample the same rows.
boot_case <- function(fit, mm, sm, nboot, seed) {
  d <- fit$rawdata
  idx <- matrix(NA_integer_, nboot, nrow(d))
  paths <- array(NA_real_, c(dim(fit$path_coef), nboot), dimnames = c(dimnames(fit$path_coef), list(NULL)))
  loads <- array(NA_real_, c(dim(fit$outer_loadings), nboot), dimnames = c(dimnames(fit$outer_loadings), list(NULL)))
  wts <- loads
  for (i in seq_len(nboot)) {
    set.seed(seed + i)
    ix <- sample.int(nrow(d), replace = TRUE)
    idx[i, ] <- ix
    bm <- suppressMessages(estimate_pls(d[ix, ], mm, sm, inner_weights = fit$inner_weights))
    paths[, , i] <- bm$path_coef
    loads[, , i] <- bm$outer_loadings
    wts[, , i] <- bm$outer_weights
  }
  list(nboot = nboot, seed = seed, indices = lapply(seq_len(nboot), function(i) idx[i, ]),
       paths = mat(parse_boot_array(fit$path_coef, paths)),
       loadings = mat(parse_boot_array(fit$outer_loadings, loads)),
       weights = mat(parse_boot_array(fit$outer_weights, wts)))
}
ecsi_fit <- suppressMessages(estimate_pls(mobi, ecsi_mm("composite"), ecsi_sm))
ecsi_fit_c <- suppressMessages(estimate_pls(mobi, ecsi_mm("reflective"), ecsi_sm))
boot <- list(
  ecsi_pls = c(list(call = "bootstrap_model(estimate_pls(mobi, mobi_mm, mobi_sm), nboot = 100, seed = 123)  # serial"),
               boot_case(ecsi_fit, ecsi_mm("composite"), ecsi_sm, 100, 123)),
  ecsi_plsc = c(list(call = "bootstrap_model(estimate_pls(mobi, mobi_mm_reflective, mobi_sm), nboot = 100, seed = 123)  # serial"),
                boot_case(ecsi_fit_c, ecsi_mm("reflective"), ecsi_sm, 100, 123)))
write_json(boot, file.path(out_dir, "seminr_bootstrap.json"), digits = NA, auto_unbox = TRUE,
           pretty = FALSE, na = "null")

meta <- list(
  source = "https://github.com/sem-in-r/seminr",
  commit = "ae2524aae5f4f0bda3eb87faf80378af5baccea1",
  seminr_version = "2.3.1 (R/*.R evaluated from source; stopCriterion = 7, maxIt = 300)",
  r_version = R.version.string,
  note = paste("iterations is seminr's loop index at the break (number of weight updates - 1);",
               "rsquared rows Rsq and AdjRsq; reliability columns alpha, rhoC, AVE, rhoA")
)
write_json(list(meta = meta, cases = cases), file.path(out_dir, "seminr.json"), digits = NA,
           auto_unbox = TRUE, pretty = FALSE, na = "null")
cat("wrote", file.path(out_dir, "seminr.json"), "\n")
