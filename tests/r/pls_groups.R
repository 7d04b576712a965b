# Golden values for custval.pls.micom, custval.pls.mga and custval.pls.plspredict, computed with
# seminr's own estimation code (seminr 2.3.1, commit ae2524aa, as tests/r/pls.R).
#
# Run from the repository root:
#   SEMINR_SRC=/path/to/seminr Rscript tests/r/pls_groups.R
# SEMINR_SRC is a checkout (or `git archive`) of https://github.com/sem-in-r/seminr at commit
# ae2524aae5f4f0bda3eb87faf80378af5baccea1; the files in $SEMINR_SRC/R/*.R are evaluated into an
# environment with "seminr::" prefixes removed, as in tests/r/pls.R.  Only base R and jsonlite.
#
# seminr has no MICOM and no permutation MGA, and its estimate_pls_mga() / bootstrap_model() run
# in parallel workers that need an installed seminr.  So this script
#   * draws permutations of the rows with R's sample() and saves them (0-based), estimates the model
#     with seminr's estimate_pls() in each group of the observed and of every permuted grouping, and
#     computes from seminr's weights and scores the MICOM statistics of Henseler, Ringle & Sarstedt
#     (2016) as cSEM's testMICOM() defines them (c = cor(Z w_1, Z w_2) on the pooled standardised
#     data; mean differences and log variance ratios of the pooled composites) and the path
#     differences of the permutation MGA (Chin & Dibbern, 2010);
#   * bootstraps each group serially as seminr's bootstrap_model() does (set.seed(seed + i);
#     sample.int(n, replace = TRUE)) and evaluates estimate_pls_mga()'s pls_mga_p formula on the
#     draws (the formula is copied from R/estimate_pls_mga.R);
#   * runs seminr's predict_pls() (k-fold, serial) and saves its fold order, so that custval can
#     use the same folds.
# Writes tests/golden/pls/seminr_groups.json (jsonlite, digits = NA = full precision).
suppressPackageStartupMessages(library(jsonlite))

src <- Sys.getenv("SEMINR_SRC")
if (!nzchar(src)) {
  message("SEMINR_SRC is not set: tests/golden/pls/seminr_groups.json left unchanged (see the header of tests/r/pls_groups.R)")
  quit(save = "no", status = 0)
}
seminr <- new.env()
for (f in sort(list.files(file.path(src, "R"), pattern = "[.]R$", full.names = TRUE))) {
  code <- gsub("seminr::", "", readLines(f, warn = FALSE), fixed = TRUE)
  eval(parse(text = code, keep.source = FALSE), envir = seminr)
}
attach(seminr, name = "seminr_src", warn.conflicts = FALSE)

out_dir <- file.path("tests", "golden", "pls")
mobi <- read.csv(file.path("custval", "_data", "mobi", "mobi.csv"))
n <- nrow(mobi)
rows <- function(m) unname(lapply(seq_len(nrow(m)), function(i) unname(as.numeric(m[i, ]))))

mm <- constructs(
  composite("Image",        multi_items("IMAG", 1:5), weights = mode_A),
  composite("Expectation",  multi_items("CUEX", 1:3), weights = mode_A),
  composite("Satisfaction", multi_items("CUSA", 1:3), weights = mode_A),
  composite("Loyalty",      multi_items("CUSL", 1:3), weights = mode_A))
sm <- relationships(
  paths(from = c("Image", "Expectation"), to = "Satisfaction"),
  paths(from = c("Satisfaction", "Image"), to = "Loyalty"))
syntax <- paste("Image =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
                "Expectation =~ CUEX1 + CUEX2 + CUEX3",
                "Satisfaction =~ CUSA1 + CUSA2 + CUSA3",
                "Loyalty =~ CUSL1 + CUSL2 + CUSL3",
                "Satisfaction ~ Image + Expectation",
                "Loyalty ~ Satisfaction + Image", sep = "\n")
est <- function(d) suppressMessages(estimate_pls(d, mm, sm, inner_weights = path_weighting))
pooled <- est(mobi)
cons <- colnames(pooled$path_coef)
items <- pooled$mmVariables
paths <- pooled$smMatrix[, c("source", "target"), drop = FALSE]

# grouping: mobi$CUEX1 >= 8 -> group "TRUE" (custval sorts the groups: FALSE first, TRUE second)
id <- ifelse(mobi$CUEX1 >= 8, 2L, 1L)
z <- scale(as.matrix(mobi[, items]))  # pooled standardised items (sd with n - 1)
scores <- pooled$construct_scores[, cons]

group_stats <- function(lab) {
  f1 <- est(mobi[lab == 1, ])
  f2 <- est(mobi[lab == 2, ])
  w1 <- f1$outer_weights[items, cons]
  w2 <- f2$outer_weights[items, cons]
  c <- diag(cor(z %*% w1, z %*% w2))
  d <- colMeans(scores[lab == 1, , drop = FALSE]) - colMeans(scores[lab == 2, , drop = FALSE])
  lv <- log(apply(scores[lab == 1, , drop = FALSE], 2, var)) - log(apply(scores[lab == 2, , drop = FALSE], 2, var))
  pd <- apply(paths, 1, function(p) f1$path_coef[p[1], p[2]] - f2$path_coef[p[1], p[2]])
  list(c = unname(c), mean_diff = unname(d), log_var_ratio = unname(lv), path_diff = unname(pd),
       paths_1 = unname(apply(paths, 1, function(p) f1$path_coef[p[1], p[2]])),
       paths_2 = unname(apply(paths, 1, function(p) f2$path_coef[p[1], p[2]])))
}

B <- 40
set.seed(20261207)
perms <- t(replicate(B, sample.int(n)))  # row orders: permuted grouping = id[perm]
observed <- group_stats(id)
permuted <- lapply(seq_len(B), function(b) group_stats(id[perms[b, ]]))
micom <- list(
  call = "seminr::estimate_pls() per group on the observed and 40 permuted groupings of mobi by CUEX1 >= 8",
  syntax = syntax, constructs = cons, paths = unname(lapply(seq_len(nrow(paths)), function(i) unname(paths[i, ]))),
  permutations = rows(perms - 1L), observed = observed,
  perm_c = rows(t(sapply(permuted, function(x) x$c))),
  perm_mean_diff = rows(t(sapply(permuted, function(x) x$mean_diff))),
  perm_log_var_ratio = rows(t(sapply(permuted, function(x) x$log_var_ratio))),
  perm_path_diff = rows(t(sapply(permuted, function(x) x$path_diff))))

# -- Henseler's PLS-MGA on seminr-style serial bootstraps of each group
boot_group <- function(d, nboot, seed) {
  fit <- est(d)
  idx <- matrix(NA_integer_, nboot, nrow(d))
  draws <- matrix(NA_real_, nboot, nrow(paths))
  for (i in seq_len(nboot)) {
    set.seed(seed + i)
    ix <- sample.int(nrow(d), replace = TRUE)
    idx[i, ] <- ix - 1L
    f <- est(d[ix, ])
    draws[i, ] <- apply(paths, 1, function(p) f$path_coef[p[1], p[2]])
  }
  list(indices = rows(idx), draws = draws)
}
b1 <- boot_group(mobi[id == 1, ], 100, 123)
b2 <- boot_group(mobi[id == 2, ], 100, 123)
# estimate_pls_mga()'s formula (R/estimate_pls_mga.R)
Theta <- function(s) ifelse(s > 0, 1, 0)
J <- nrow(b1$draws)
pls_mga_p <- sapply(seq_len(nrow(paths)), function(i) {
  for_all <- expand.grid(b1$draws[, i], b2$draws[, i])
  1 - sum(Theta(2 * mean(b1$draws[, i]) - for_all[, 1] - 2 * mean(b2$draws[, i]) + for_all[, 2])) / J^2
})
henseler <- list(call = "estimate_pls_mga(fit, mobi$CUEX1 < 8, nboot = 100, seed = 123) formula on serial bootstraps",
                 indices_1 = b1$indices, indices_2 = b2$indices, draws_1 = rows(b1$draws),
                 draws_2 = rows(b2$draws), pls_mga_p = pls_mga_p)

# -- predict_pls (k-fold, serial): its first sample() call is the row order of the folds
pred_case <- function(technique, name, seed) {
  set.seed(seed)
  order <- sample(nrow(pooled$data), nrow(pooled$data), replace = FALSE)
  set.seed(seed)
  pr <- suppressMessages(predict_pls(pooled, technique = technique, noFolds = 10, reps = NULL))
  endo_items <- colnames(pr$PLS_out_of_sample)
  list(call = sprintf("set.seed(%d); predict_pls(fit, technique = %s, noFolds = 10)", seed, name),
       order = order - 1L, items = endo_items,
       pls = rows(as.matrix(pr$PLS_out_of_sample)), lm = rows(as.matrix(pr$lm_out_of_sample[, endo_items])))
}
predict <- list(earliest = pred_case(predict_EA, "predict_EA", 11), direct = pred_case(predict_DA, "predict_DA", 12))

write_json(list(micom = micom, henseler = henseler, predict = predict),
           file.path(out_dir, "seminr_groups.json"), digits = NA, auto_unbox = TRUE, pretty = FALSE)
message("wrote ", file.path(out_dir, "seminr_groups.json"))
