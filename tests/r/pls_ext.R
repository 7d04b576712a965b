# Golden values for custval.pls interaction terms and higher-order constructs, computed by seminr's
# own estimation code (the same source tree and loading method as tests/r/pls.R).
#
# Run from the repository root:
#   SEMINR_SRC=/path/to/seminr Rscript tests/r/pls_ext.R
# SEMINR_SRC: `git archive ae2524aae5f4f0bda3eb87faf80378af5baccea1 R` of
# https://github.com/sem-in-r/seminr (seminr 2.3.1), see tests/golden/pls/README.md.
#
# Writes tests/golden/pls/seminr_ext.json: per case the seminr call, the equivalent custval syntax and
# options, and seminr's estimates; bootstrap cases also hold the resampled rows (1-based).
#
# Repeated indicators: seminr 2.3.1 implements only the two-stage approach for higher_composite().
# The repeated-indicator model is the ordinary PLS model in which the higher-order construct is
# measured by copies of all items of its lower-order constructs (Lohmoeller, 1989; Becker et al.,
# 2012); the case "hoc_repeated" estimates exactly that model with seminr's estimate_pls(), the copies
# being columns <item>__r added to the data (a standardised copy equals the standardised item).
suppressPackageStartupMessages(library(jsonlite))

src <- Sys.getenv("SEMINR_SRC")
if (!nzchar(src)) {
  message("SEMINR_SRC is not set: tests/golden/pls/seminr_ext.json left unchanged (see tests/r/pls_ext.R)")
  quit(save = "no", status = 0)
}
seminr <- new.env()
for (f in sort(list.files(file.path(src, "R"), pattern = "[.]R$", full.names = TRUE))) {
  code <- gsub("seminr::", "", readLines(f, warn = FALSE), fixed = TRUE)
  eval(parse(text = code, keep.source = FALSE), envir = seminr)
}
attach(seminr, name = "seminr_src", warn.conflicts = FALSE)

out_dir <- file.path("tests", "golden", "pls")
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))
mat <- function(m) {
  m <- as.matrix(unclass(m))
  list(rows = rownames(m), cols = colnames(m),
       values = unname(lapply(seq_len(nrow(m)), function(i) unname(as.numeric(m[i, ])))))
}
mobi <- raw("mobi")

summarise <- function(fit, call, syntax, options) {
  rel <- suppressMessages(reliability(fit))
  out <- list(call = call, syntax = syntax, options = options, n = nrow(fit$data),
              iterations = fit$iterations,
              weights = mat(fit$outer_weights), loadings = mat(fit$outer_loadings),
              paths = mat(fit$path_coef), rsquared = mat(fit$rSquared),
              reliability = mat(rel[, c("alpha", "rhoC", "AVE", "rhoA")]),
              scores = mat(fit$construct_scores), htmt = mat(HTMT(fit)))
  if (!is.null(fit$first_stage_model)) {
    fs <- fit$first_stage_model
    frel <- suppressMessages(reliability(fs))
    out$first_stage <- list(weights = mat(fs$outer_weights), loadings = mat(fs$outer_loadings),
                            paths = mat(fs$path_coef), scores = mat(fs$construct_scores),
                            reliability = mat(frel[, c("alpha", "rhoC", "AVE", "rhoA")]))
  }
  out
}
boot <- function(fit, data, mm, sm, nboot, seed) {
  idx <- matrix(NA_integer_, nboot, nrow(data))
  paths <- array(NA_real_, c(dim(fit$path_coef), nboot), dimnames = c(dimnames(fit$path_coef), list(NULL)))
  loads <- array(NA_real_, c(dim(fit$outer_loadings), nboot), dimnames = c(dimnames(fit$outer_loadings), list(NULL)))
  h0 <- HTMT(fit)
  htmts <- array(NA_real_, c(dim(h0), nboot), dimnames = c(dimnames(h0), list(NULL)))
  for (i in seq_len(nboot)) {
    set.seed(seed + i)
    ix <- sample.int(nrow(data), replace = TRUE)
    idx[i, ] <- ix
    bm <- suppressMessages(estimate_pls(data[ix, ], mm, sm))
    paths[, , i] <- bm$path_coef[rownames(fit$path_coef), colnames(fit$path_coef)]
    loads[, , i] <- bm$outer_loadings[rownames(fit$outer_loadings), colnames(fit$outer_loadings)]
    htmts[, , i] <- HTMT(bm)[rownames(h0), colnames(h0)]
  }
  list(nboot = nboot, seed = seed, indices = lapply(seq_len(nboot), function(i) idx[i, ]),
       paths = mat(parse_boot_array(fit$path_coef, paths)),
       loadings = mat(parse_boot_array(fit$outer_loadings, loads)),
       htmt = mat(parse_boot_array(h0, htmts)))
}

cases <- list()
base_mm <- list(
  composite("Image",        multi_items("IMAG", 1:5)),
  composite("Expectation",  multi_items("CUEX", 1:3)),
  composite("Value",        multi_items("PERV", 1:2)),
  composite("Satisfaction", multi_items("CUSA", 1:3)))
base_syn <- paste("Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5", "Expectation =~ CUEX1 + CUEX2 + CUEX3",
                  "Value =~ PERV1 + PERV2", "Satisfaction =~ CUSA1 + CUSA2 + CUSA3", sep = "\n")
int_sm <- relationships(paths(to = "Satisfaction",
                              from = c("Image", "Expectation", "Value", "Image*Expectation", "Image*Value")))
int_syn <- paste(base_syn, "Satisfaction ~ Image + Expectation + Value + Image:Expectation + Image:Value", sep = "\n")
for (m in c("two_stage", "product_indicator", "orthogonal")) {
  method <- get(m)
  mm <- do.call(constructs, c(base_mm, list(
    interaction_term(iv = "Image", moderator = "Expectation", method = method),
    interaction_term(iv = "Image", moderator = "Value", method = method))))
  fit <- suppressMessages(estimate_pls(mobi, mm, int_sm))
  case <- summarise(fit, sprintf(paste("estimate_pls(mobi, mm, sm)  # mm: composite() Image, Expectation, Value,",
                                       "Satisfaction; interaction_term(Image, Expectation / Value, method = %s)"), m),
                    int_syn, list(interaction = m))
  if (m == "two_stage") case$bootstrap <- boot(fit, mobi, mm, int_sm, 30, 123)
  if (m == "product_indicator") case$bootstrap <- boot(fit, mobi, mm, int_sm, 20, 7)
  cases[[paste0("interaction_", m)]] <- case
}

# -- higher-order composite: seminr's demo/seminr-pls-higher_order.R and tests/testthat/test-hoc.R
hoc_mm <- constructs(
  composite("Image",        multi_items("IMAG", 1:5)),
  composite("Expectation",  multi_items("CUEX", 1:3)),
  composite("Quality",      multi_items("PERQ", 1:7)),
  composite("Value",        multi_items("PERV", 1:2)),
  higher_composite("Satisfaction", dimensions = c("Image", "Value"), method = two_stage, weights = mode_A),
  composite("Complaints",   single_item("CUSCO")),
  composite("Loyalty",      multi_items("CUSL", 1:3)))
hoc_sm <- relationships(
  paths(from = c("Expectation", "Quality"), to = "Satisfaction"),
  paths(from = "Satisfaction", to = c("Complaints", "Loyalty")))
hoc_syn <- paste("Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5", "Expectation =~ CUEX1 + CUEX2 + CUEX3",
                 "Quality =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7",
                 "Value =~ PERV1 + PERV2", "Satisfaction =~ Image + Value", "Complaints =~ CUSCO",
                 "Loyalty =~ CUSL1 + CUSL2 + CUSL3", "Satisfaction ~ Expectation + Quality",
                 "Complaints ~ Satisfaction", "Loyalty ~ Satisfaction", sep = "\n")
fit <- suppressMessages(estimate_pls(mobi, hoc_mm, hoc_sm))
cases$hoc_two_stage <- summarise(
  fit, "estimate_pls(mobi, mm, sm)  # higher_composite('Satisfaction', c('Image', 'Value'), method = two_stage, weights = mode_A)",
  hoc_syn, list(hoc = "two_stage"))
cases$hoc_two_stage$bootstrap <- boot(fit, mobi, hoc_mm, hoc_sm, 20, 11)
# mode B higher-order composite (reflective-formative type)
hoc_mm_b <- constructs(
  composite("Image",        multi_items("IMAG", 1:5)),
  composite("Expectation",  multi_items("CUEX", 1:3)),
  composite("Quality",      multi_items("PERQ", 1:7)),
  composite("Value",        multi_items("PERV", 1:2)),
  higher_composite("Satisfaction", dimensions = c("Image", "Value"), method = two_stage, weights = mode_B),
  composite("Complaints",   single_item("CUSCO")),
  composite("Loyalty",      multi_items("CUSL", 1:3)))
fit <- suppressMessages(estimate_pls(mobi, hoc_mm_b, hoc_sm))
cases$hoc_two_stage_mode_b <- summarise(
  fit, "estimate_pls(mobi, mm, sm)  # higher_composite('Satisfaction', c('Image', 'Value'), method = two_stage, weights = mode_B)",
  sub("Satisfaction =~ Image", "Satisfaction <~ Image", hoc_syn, fixed = TRUE), list(hoc = "two_stage"))

# -- repeated indicators: Satisfaction measured by copies of the items of Image and Value; paths
#    Satisfaction -> Image, Satisfaction -> Value (mode A higher-order construct)
rep_items <- c(multi_items("IMAG", 1:5), multi_items("PERV", 1:2))
mobi_r <- mobi
for (i in rep_items) mobi_r[[paste0(i, "__r")]] <- mobi[[i]]
rep_mm <- constructs(
  composite("Image",        multi_items("IMAG", 1:5)),
  composite("Expectation",  multi_items("CUEX", 1:3)),
  composite("Quality",      multi_items("PERQ", 1:7)),
  composite("Value",        multi_items("PERV", 1:2)),
  composite("Satisfaction", paste0(rep_items, "__r")),
  composite("Complaints",   single_item("CUSCO")),
  composite("Loyalty",      multi_items("CUSL", 1:3)))
rep_sm <- relationships(
  paths(from = c("Expectation", "Quality"), to = "Satisfaction"),
  paths(from = "Satisfaction", to = c("Image", "Value", "Complaints", "Loyalty")))
fit <- suppressMessages(estimate_pls(mobi_r, rep_mm, rep_sm))
cases$hoc_repeated <- summarise(
  fit, paste("estimate_pls(mobi_r, mm, sm)  # Satisfaction = composite(copies of IMAG1-5, PERV1-2);",
             "paths Satisfaction -> Image, Value"),
  hoc_syn, list(hoc = "repeated_indicators"))

# -- corp_rep (Hair et al., 2022): -99 = missing, seminr's default mean replacement (custval missing = "mean")
corp <- raw("corp_rep")
corp_blocks <- list(
  composite("COMP", multi_items("comp_", 1:3)), composite("LIKE", multi_items("like_", 1:3)),
  composite("CUSA", single_item("cusa")), composite("CUSL", multi_items("cusl_", 1:3)))
# moderation: switching costs (SC) moderate CUSA -> CUSL (Hair et al., 2022, ch. 7)
mm_sc <- do.call(constructs, c(corp_blocks, list(composite("SC", multi_items("switch_", 1:4)),
  interaction_term(iv = "CUSA", moderator = "SC", method = two_stage))))
sm_sc <- relationships(paths(from = c("COMP", "LIKE"), to = "CUSA"),
                       paths(from = c("COMP", "LIKE", "CUSA", "SC", "CUSA*SC"), to = "CUSL"))
fit <- suppressMessages(estimate_pls(corp, mm_sc, sm_sc, missing_value = "-99"))
cases$corp_rep_moderation <- c(summarise(
  fit, "estimate_pls(corp_rep, mm, sm, missing_value = '-99')  # SC = switch_1-4; interaction_term('CUSA', 'SC', method = two_stage)",
  paste("COMP =~ comp_1 + comp_2 + comp_3", "LIKE =~ like_1 + like_2 + like_3", "CUSA =~ cusa",
        "CUSL =~ cusl_1 + cusl_2 + cusl_3", "SC =~ switch_1 + switch_2 + switch_3 + switch_4",
        "CUSA ~ COMP + LIKE", "CUSL ~ COMP + LIKE + CUSA + SC + CUSA:SC", sep = "\n"),
  list(interaction = "two_stage", missing = "mean")), list(dataset = "corp_rep"))
# higher-order: corporate reputation as a higher-order composite of competence and likeability
mm_rep <- do.call(constructs, c(corp_blocks, list(
  higher_composite("REP", dimensions = c("COMP", "LIKE"), method = two_stage, weights = mode_A))))
sm_rep <- relationships(paths(from = "REP", to = c("CUSA", "CUSL")), paths(from = "CUSA", to = "CUSL"))
fit <- suppressMessages(estimate_pls(corp, mm_rep, sm_rep, missing_value = "-99"))
cases$corp_rep_hoc <- c(summarise(
  fit, "estimate_pls(corp_rep, mm, sm, missing_value = '-99')  # higher_composite('REP', c('COMP', 'LIKE'), method = two_stage)",
  paste("COMP =~ comp_1 + comp_2 + comp_3", "LIKE =~ like_1 + like_2 + like_3", "CUSA =~ cusa",
        "CUSL =~ cusl_1 + cusl_2 + cusl_3", "REP =~ COMP + LIKE", "CUSA ~ REP", "CUSL ~ REP + CUSA", sep = "\n"),
  list(hoc = "two_stage", missing = "mean")), list(dataset = "corp_rep"))

meta <- list(source = "https://github.com/sem-in-r/seminr", commit = "ae2524aae5f4f0bda3eb87faf80378af5baccea1",
             seminr_version = "2.3.1 (R/*.R evaluated from source; stopCriterion = 7, maxIt = 300)",
             r_version = R.version.string,
             note = paste("interaction constructs are named 'A*B' by seminr, 'A:B' in custval; bootstrap: seminr's",
                          "bootstrap_model() loop run serially (set.seed(seed + i); sample.int(n, replace = TRUE)),",
                          "summaries by parse_boot_array()"))
write_json(list(meta = meta, cases = cases), file.path(out_dir, "seminr_ext.json"), digits = NA,
           auto_unbox = TRUE, pretty = FALSE, na = "null")
cat("wrote", file.path(out_dir, "seminr_ext.json"), "\n")
