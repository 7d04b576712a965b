# Golden values for custval.short_form: every subset's criteria and the exhaustive optimum.
#
# Run from the repository root:  Rscript tests/r/short_form.R
# Writes tests/golden/shortform/subsets.json (jsonlite, digits = NA = full precision).
#
# References: lavaan 0.6-14, psych (Debian r-cran-* packages).  R's stuart is not installed;
# its bruteforce() is written out here as a loop over combn() with lavaan::cfa per subset
# and the objective custval documents (stuart's normal-CDF desirabilities):
#   1 * pnorm(omega, .80, .075) + .5 * pnorm(rmsea, .05, .015, lower = FALSE)
#   + .5 * pnorm(srmr, .05, .015, lower = FALSE) + 1 * pnorm(r_full, .90, .05)
# omega = psych::omega(x, nfactors = 1)$omega.tot, r_full = cor(rowSums(subset), rowSums(pool)).
# All rows are used (custval: holdout = 0); bfi: listwise on the construct's items, C4 and C5
# reverse-keyed as 7 - x.
suppressPackageStartupMessages({
  library(lavaan)
  library(psych)
  library(jsonlite)
})

out_dir <- file.path("tests", "golden", "shortform")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
raw <- function(name) read.csv(file.path("custval", "_data", name, paste0(name, ".csv")))

objective <- function(omega, rmsea, srmr, r_full) {
  pnorm(omega, .80, .075) + .5 * pnorm(rmsea, .05, .015, lower.tail = FALSE) +
    .5 * pnorm(srmr, .05, .015, lower.tail = FALSE) + pnorm(r_full, .90, .05)
}

all_subsets <- function(x, pool, k) {
  sets <- combn(pool, k, simplify = FALSE)
  total <- rowSums(x[, pool])
  rows <- lapply(sets, function(s) {
    fit <- cfa(paste("F =~", paste(s, collapse = " + ")), data = x[, s])
    fm <- fitMeasures(fit, c("chisq", "df", "cfi", "rmsea", "srmr"))
    om <- suppressWarnings(suppressMessages(omega(x[, s], nfactors = 1, plot = FALSE)))$omega.tot
    r_full <- cor(rowSums(x[, s]), total)
    list(items = s, chisq = fm[["chisq"]], df = fm[["df"]], cfi = fm[["cfi"]], rmsea = fm[["rmsea"]],
         srmr = fm[["srmr"]], omega = om, r_full = r_full,
         objective = objective(om, fm[["rmsea"]], fm[["srmr"]], r_full))
  })
  obj <- sapply(rows, `[[`, "objective")
  list(subsets = rows, best = rows[[which.max(obj)]]$items, n = nrow(x))
}

mobi <- raw("mobi")
bfi <- raw("bfi")
bfi_c <- na.omit(bfi[, paste0("C", 1:5)])
bfi_c$C4 <- 7 - bfi_c$C4
bfi_c$C5 <- 7 - bfi_c$C5

out <- list(
  mobi_PERQ_4 = all_subsets(mobi, paste0("PERQ", 1:7), 4),
  mobi_PERQ_5 = all_subsets(mobi, paste0("PERQ", 1:7), 5),
  bfi_C_4 = all_subsets(bfi_c, paste0("C", 1:5), 4)
)
write_json(out, file.path(out_dir, "subsets.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)
