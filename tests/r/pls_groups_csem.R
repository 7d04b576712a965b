# Golden values for custval.pls.micom and custval.pls.mga from cSEM's own testMICOM() and testMGD().
#
# Run from the repository root:
#   CSEM_SRC=/path/to/cSEM Rscript tests/r/pls_groups_csem.R
# CSEM_SRC is a checkout (or `git archive`) of https://github.com/FloSchuberth/cSEM (GPL-3) at commit
# 1aa2be56 (cSEM 0.6.1.9000).  cSEM itself need not be installed: its R/*.R files are evaluated into
# an environment.  It needs magrittr, purrr, matrixStats, progressr, cli, crayon, lavaan, expm,
# future, future.apply, Rdpack, rlang, lifecycle, MASS, Matrix, psych, polycor (installed here);
# matrixcalc is not installed, so its four functions that cSEM calls (is.square.matrix,
# is.symmetric.matrix, matrix.trace, is.positive.semi.definite) are defined below as matrixcalc
# defines them.  The estimation functions used here need none of the other missing packages.
#
# The model is estimated as composites with mode A weights (.PLS_modes = "modeA",
# .disattenuate = FALSE) and a tight tolerance (1e-12), so cSEM's weights equal seminr's/custval's
# to ~1e-12 despite cSEM's different stopping rule.  The data are sorted by group first: cSEM at
# this commit pairs testMICOM()'s step-3 group labels with the rows in the sorted order (cSEM
# issue #632, fixed later), so only on sorted data are its step-3 statistics those of the groups.
#
# The permutations are reproduced: testMICOM() calls set.seed(.seed) and then, per run,
# sample(id) (= id[sample.int(n)]) for step 2, and afterwards replicate(.R, sample(id)) for step 3;
# testMGD(.approach_mgd = "Chin") calls set.seed(.seed) and sample(id) per run.  The row orders
# are saved (0-based) so custval can use the same permutations.
#
# Writes tests/golden/pls/csem_groups.json (jsonlite, digits = NA).
suppressPackageStartupMessages({library(jsonlite); library(magrittr)})

src <- Sys.getenv("CSEM_SRC")
if (!nzchar(src)) {
  message("CSEM_SRC is not set: tests/golden/pls/csem_groups.json left unchanged (see the header of tests/r/pls_groups_csem.R)")
  quit(save = "no", status = 0)
}
csem_env <- new.env()
csem_env$mc_is.square.matrix <- function(x) is.matrix(x) && nrow(x) == ncol(x)
csem_env$mc_is.symmetric.matrix <- function(x) is.matrix(x) && nrow(x) == ncol(x) && sum(x == t(x)) == nrow(x)^2
csem_env$mc_matrix.trace <- function(x) sum(diag(x))
csem_env$mc_is.positive.semi.definite <- function(x, tol = 1e-8) {
  ev <- eigen(x, only.values = TRUE)$values; ev[abs(ev) < tol] <- 0; all(ev >= 0) }
for (f in sort(list.files(file.path(src, "R"), pattern = "[.]R$", full.names = TRUE))) {
  code <- gsub("matrixcalc::", "mc_", readLines(f, warn = FALSE), fixed = TRUE)
  eval(parse(text = code, keep.source = FALSE), envir = csem_env)
}
attach(csem_env, name = "csem_src", warn.conflicts = FALSE)

mobi <- read.csv(file.path("custval", "_data", "mobi", "mobi.csv"))
mobi$grp <- ifelse(mobi$CUEX1 >= 8, "B", "A")  # custval: False (A) and True (B)
sorted <- mobi[order(mobi$grp, seq_len(nrow(mobi))), ]
rownames(sorted) <- NULL
n <- nrow(sorted)
model <- "
Image <~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
Expectation <~ CUEX1 + CUEX2 + CUEX3
Satisfaction <~ CUSA1 + CUSA2 + CUSA3
Loyalty <~ CUSL1 + CUSL2 + CUSL3
Satisfaction ~ Image + Expectation
Loyalty ~ Satisfaction + Image
"
syntax <- gsub("<~", "=~", trimws(model))
res <- csem(sorted, model, .id = "grp", .PLS_modes = "modeA", .disattenuate = FALSE,
            .tolerance = 1e-12, .iter_max = 1000)
id <- rep(1:2, sapply(res, function(r) nrow(r$Information$Arguments$.data)))

R <- 100
set.seed(1)  # testMICOM() saves and restores .Random.seed, which must exist
mic <- testMICOM(res, .R = R, .seed = 42, .verbose = FALSE)
set.seed(42)
o2 <- t(replicate(R, sample.int(n)))
o3 <- t(replicate(R, sample.int(n)))
# check the reproduction: the permuted labels of step 2 are id[o2[b, ]]
stopifnot(all(apply(o2, 1, function(o) all(sort(id[o]) == sort(id)))))

set.seed(1)
mgd <- testMGD(res, .approach_mgd = "Chin", .R_permutation = R, .seed = 7, .verbose = FALSE)
set.seed(7)
om <- t(replicate(R, sample.int(n)))

rows <- function(m) unname(lapply(seq_len(nrow(m)), function(i) unname(as.numeric(m[i, ]))))
chin_p <- mgd$Chin$P_value$none$`A_B`
out <- list(
  call = "testMICOM(csem(sorted_mobi, model, .id = 'grp', .PLS_modes = 'modeA', .disattenuate = FALSE, .tolerance = 1e-12), .R = 100, .seed = 42); testMGD(res, .approach_mgd = 'Chin', .R_permutation = 100, .seed = 7)",
  syntax = syntax, sorted_rows = order(mobi$grp, seq_len(nrow(mobi))) - 1L,
  step2_permutations = rows(o2 - 1L), step3_permutations = rows(o3 - 1L), mgd_permutations = rows(om - 1L),
  c = unname(mic$Step2$Test_statistic$A_B), c_p = unname(mic$Step2$P_value$none[[1]]),
  mean_diff = unname(mic$Step3$Mean$Test_statistic$A_B), mean_p = unname(mic$Step3$Mean$P_value$none$A_B),
  log_var_ratio = unname(mic$Step3$Var$Test_statistic$A_B), var_p = unname(mic$Step3$Var$P_value$none$A_B),
  constructs = names(mic$Step2$Test_statistic$A_B),
  chin_names = names(mgd$Chin$Test_statistic$A_B), chin_diff = unname(mgd$Chin$Test_statistic$A_B),
  chin_p = unname(chin_p))
write_json(out, file.path("tests", "golden", "pls", "csem_groups.json"), digits = NA, auto_unbox = TRUE)
message("wrote tests/golden/pls/csem_groups.json")
