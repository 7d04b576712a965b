# Golden values for custval.scoring (construct scores).
# Run from the repository root:  Rscript tests/r/scoring.R
# Writes tests/golden/scoring/{bfi_scores,bfi_complete,corp_rep_scores}.json
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "scoring")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

write_golden <- function(x, name) {
  write_json(x, file.path(out_dir, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             na = "null", pretty = FALSE)
}

cols <- function(m) {
  # a matrix/data frame -> named list of columns (keeps names in the JSON)
  m <- as.data.frame(m)
  setNames(lapply(names(m), function(n) unname(m[[n]])), names(m))
}

# ---------------------------------------------------------------- bfi, all 2800 rows (with NA)
bfi <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))
keys_list <- list(
  A = c("-A1", "A2", "A3", "A4", "A5"),
  C = c("C1", "C2", "C3", "-C4", "-C5"),
  E = c("-E1", "-E2", "E3", "E4", "E5"),
  N = c("N1", "N2", "N3", "N4", "N5"),
  O = c("O1", "-O2", "O3", "O4", "-O5")
)
items <- unlist(lapply(keys_list, function(k) sub("^-", "", k)), use.names = FALSE)
x <- bfi[, items]
keys <- make.keys(x, keys_list)
sc <- scoreItems(keys, x, totals = FALSE, impute = "none", min = 1, max = 6)
n_valid <- sapply(names(keys_list), function(k) rowSums(!is.na(x[, sub("^-", "", keys_list[[k]])])))
write_golden(list(
  r_call = 'psych::scoreItems(keys, bfi[items], totals = FALSE, impute = "none", min = 1, max = 6)$scores',
  psych_version = as.character(packageVersion("psych")),
  id = bfi$id,
  constructs = names(keys_list),
  scores = cols(sc$scores),
  n_valid = cols(n_valid),
  # psych's default imputation (item medians), to document that custval differs from it
  scores_impute_median_row_ids = bfi$id[!complete.cases(x)][1:5],
  scores_impute_median = cols(scoreItems(keys, x, totals = FALSE, min = 1, max = 6)$scores[
    !complete.cases(x), , drop = FALSE][1:5, , drop = FALSE])
), "bfi_scores")

# ---------------------------------------------------------------- bfi, complete rows: mean and sum
cc <- complete.cases(x)
xc <- x[cc, ]
mean_c <- scoreItems(keys, xc, totals = FALSE, impute = "none", min = 1, max = 6)$scores
sum_c <- suppressWarnings(scoreItems(keys, xc, totals = TRUE, impute = "none", min = 1, max = 6)$scores)
write_golden(list(
  r_call_mean = 'psych::scoreItems(keys, x[complete.cases(x), ], totals = FALSE, impute = "none", min = 1, max = 6)$scores',
  r_call_sum = 'psych::scoreItems(keys, x[complete.cases(x), ], totals = TRUE, impute = "none", min = 1, max = 6)$scores',
  id = bfi$id[cc],
  constructs = names(keys_list),
  mean = cols(mean_c),
  sum = cols(sum_c)
), "bfi_complete")

# ---------------------------------------------------------------- corp_rep, -99 declared missing
cr <- read.csv(file.path("custval", "_data", "corp_rep", "corp_rep.csv"))
cr_keys <- list(
  COMP = c("comp_1", "comp_2", "comp_3"),
  LIKE = c("like_1", "like_2", "like_3"),
  CUSA = c("cusa"),
  CUSL = c("cusl_1", "cusl_2", "cusl_3")
)
cr_items <- unlist(cr_keys, use.names = FALSE)
y <- cr[, cr_items]
y[y == -99] <- NA
# one-item scales: scoreItems needs a keys matrix (make.keys), the mean of one item is the item
cr_sc <- scoreItems(make.keys(y, cr_keys), y, totals = FALSE, impute = "none", min = 1, max = 7)$scores
write_golden(list(
  r_call = 'y[y == -99] <- NA; psych::scoreItems(keys, y, totals = FALSE, impute = "none", min = 1, max = 7)$scores',
  row = seq_len(nrow(cr)) - 1L,
  constructs = names(cr_keys),
  scores = cols(cr_sc)
), "corp_rep_scores")
cat("wrote", out_dir, "\n")
