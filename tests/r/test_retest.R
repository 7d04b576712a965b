# Golden values for custval.test_retest (tests/test_retest.py): psych::ICC(lmer = FALSE).
# Run from the repository root:  Rscript tests/r/test_retest.R
#
# Data: the first 400 respondents of the shipped bfi (custval/_data/bfi/bfi.csv, items A1-A5 and
# C1-C5) are wave 1.  Wave 2 is a simulated retest of the same people: every answer moves by
# -1, 0 or +1 (probabilities .15, .70, .15; seeded) and is kept within 1..6, 15 more answers are
# skipped, 12 respondents do not return and 5 respondents answer only wave 2; the rows are
# shuffled.  Both waves are written to tests/data/retest_bfi_wave{1,2}.csv and read by the
# tests as they are.  Writes tests/golden/reliability/test_retest.json (full precision).
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
set.seed(20261207)
bfi <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))
items <- c(paste0("A", 1:5), paste0("C", 1:5))
reverse <- c("A1", "C4", "C5")
w1 <- bfi[1:400, c("id", items)]
w2 <- w1
for (it in items) {
  step <- sample(c(-1L, 0L, 1L), nrow(w2), replace = TRUE, prob = c(.15, .70, .15))
  w2[[it]] <- pmin(6L, pmax(1L, w2[[it]] + step))
}
skip_r <- sample(nrow(w2), 15); skip_c <- sample(items, 15, replace = TRUE)
for (i in seq_along(skip_r)) w2[skip_r[i], skip_c[i]] <- NA
gone <- sample(nrow(w2), 12)
w2 <- w2[-gone, ]
new <- bfi[401:405, c("id", items)]
w2 <- rbind(w2, new)
w2 <- w2[sample(nrow(w2)), ]
dir.create(file.path("tests", "data"), showWarnings = FALSE)
write.csv(w1, file.path("tests", "data", "retest_bfi_wave1.csv"), row.names = FALSE, na = "")
write.csv(w2, file.path("tests", "data", "retest_bfi_wave2.csv"), row.names = FALSE, na = "")

m <- merge(w1, w2, by = "id", suffixes = c(".t1", ".t2"))
one <- function(x1, x2) {
  ok <- !is.na(x1) & !is.na(x2)
  x <- data.frame(t1 = x1[ok], t2 = x2[ok])
  ic <- psych::ICC(x, lmer = FALSE, alpha = 0.05)$results
  rownames(ic) <- ic$type
  pick <- function(tp) list(estimate = ic[tp, "ICC"], F = ic[tp, "F"], df1 = ic[tp, "df1"],
                            df2 = ic[tp, "df2"], p = ic[tp, "p"],
                            ci_low = ic[tp, "lower bound"], ci_high = ic[tp, "upper bound"])
  sd_pooled <- sqrt((var(x$t1) + var(x$t2)) / 2)
  sem <- sd_pooled * sqrt(1 - ic["ICC2", "ICC"])
  list(n = nrow(x), ICC2 = pick("ICC2"), ICC3 = pick("ICC3"), ICC2k = pick("ICC2k"), ICC3k = pick("ICC3k"),
       r = cor(x$t1, x$t2), sd = sd_pooled, sem = sem, sdc = 1.96 * sqrt(2) * sem)
}
out_items <- list()
for (it in items) out_items[[it]] <- one(m[[paste0(it, ".t1")]], m[[paste0(it, ".t2")]])
keyed_score <- function(d, its, suffix) {
  k <- sapply(its, function(it) { v <- d[[paste0(it, suffix)]]; if (it %in% reverse) 7 - v else v })
  rowMeans(k)  # NA unless every item of the construct is answered
}
blocks <- list(A = paste0("A", 1:5), C = paste0("C", 1:5))
out_scores <- list()
for (b in names(blocks)) out_scores[[b]] <- one(keyed_score(m, blocks[[b]], ".t1"), keyed_score(m, blocks[[b]], ".t2"))

res <- list(
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
  call = "psych::ICC(cbind(t1, t2), lmer = FALSE)",
  n_matched = nrow(m),
  unmatched_time1 = sort(setdiff(w1$id, w2$id)),
  unmatched_time2 = sort(setdiff(w2$id, w1$id)),
  items = out_items, constructs = out_scores)
out_dir <- file.path("tests", "golden", "reliability")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
write_json(res, file.path(out_dir, "test_retest.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null")
