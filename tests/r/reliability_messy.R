# Golden values for reliability with messy input (tests/test_messy_reliability.py): a constant item.
# Run from the repository root:  Rscript tests/r/reliability_messy.R
# Writes tests/golden/reliability/messy_constant.json (full precision, the data included).
#
# A pilot of a 5-point satisfaction scale in which every respondent answered sat3 with 4.
# psych::alpha (delete = TRUE, its default) drops the constant item, warns, and reports the alpha of
# the other items; its alpha.drop has no row for the constant item.  The alpha of the scale *as scored*
# (all k items, the constant one adding nothing to the variances) is psych's own formula
# (1 - tr(C)/sum(C)) * k/(k - 1) on C = cov(x, use = "pairwise"): that is what custval reports.
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "reliability")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
versions <- list(R = R.version.string, psych = as.character(packageVersion("psych")))
named <- function(v, nm) { v <- as.numeric(v); names(v) <- nm; as.list(v) }

set.seed(20261207)
n <- 24
f <- rnorm(n)
likert <- function(lam) as.integer(cut(lam * f + sqrt(1 - lam^2) * rnorm(n), c(-Inf, -1.2, -.4, .4, 1.2, Inf)))
x <- data.frame(sat1 = likert(.8), sat2 = likert(.7), sat3 = rep(4L, n), sat4 = likert(.6))
x_miss <- x
x_miss$sat2[c(3, 17)] <- NA  # two skipped answers
x_miss$sat4[9] <- NA

raw_alpha <- function(C) { k <- ncol(C); (1 - tr(C) / sum(C)) * k / (k - 1) }
ase <- function(C) {  # psych::alpha's Q (Duhachek & Iacobucci), se = sqrt(Q / n)
  k <- ncol(C)
  (2 * k^2 / ((k - 1)^2 * (sum(C)^3))) * (sum(C) * (tr(C %*% C) + (tr(C))^2) - 2 * (tr(C) * sum(C %*% C)))
}

case <- function(x, policy) {
  xx <- if (policy == "listwise") na.omit(x) else x
  nobs <- if (policy == "listwise") nrow(xx) else sum(rowSums(!is.na(xx)) > 0)
  warn <- character(0)
  a <- withCallingHandlers(psych::alpha(xx),
                           warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") })
  C <- cov(xx, use = "pairwise")
  k <- ncol(C)
  drop_all <- sapply(seq_len(k), function(i) raw_alpha(C[-i, -i, drop = FALSE]))
  kept <- rownames(a$alpha.drop)
  list(
    items = colnames(x), n = nobs, policy = policy,
    # the scale as scored (custval): all k items
    alpha = raw_alpha(C), se = sqrt(ase(C) / nobs),
    feldt_low = alpha.ci(raw_alpha(C), nobs, k)$lower.ci, feldt_high = alpha.ci(raw_alpha(C), nobs, k)$upper.ci,
    alpha_if_deleted = named(drop_all, colnames(x)),
    # what psych::alpha reports (constant item dropped)
    psych_raw_alpha = a$total$raw_alpha, psych_std_alpha = a$total$std.alpha,
    psych_warnings = warn,
    psych_alpha_drop = named(a$alpha.drop$raw_alpha, kept),
    psych_r_drop = named(a$item.stats$r.drop, kept),
    psych_raw_r = named(a$item.stats$raw.r, kept),
    call = sprintf("psych::alpha(%s)", if (policy == "listwise") "na.omit(x)" else "x")
  )
}

res <- list(versions = versions, constant_item = "sat3", scale_min = 1, scale_max = 5,
            data = lapply(x, function(v) v), data_missing = lapply(x_miss, function(v) v),
            complete = case(x, "listwise"),
            listwise = case(x_miss, "listwise"),
            pairwise = case(x_miss, "pairwise"))
write_json(res, file.path(out_dir, "messy_constant.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null")
cat("golden values written to", file.path(out_dir, "messy_constant.json"), "\n")
