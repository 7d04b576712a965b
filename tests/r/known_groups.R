# Golden values for custval.known_groups and custval.criterion_validity (tests/test_known_groups.py).
# Run from the repository root:  Rscript tests/r/known_groups.R
#
# Data: the shipped bfi (custval/_data/bfi/bfi.csv, 2800 respondents).  Construct scores are
# the means of the answered keyed items (reverse items 7 - x), as custval's Instrument.score.
# Known groups: gender (1 = male, 2 = female), psych::cohen.d(scores, gender).  psych finds the
# interval's noncentrality parameter with uniroot at its default tolerance (about 1e-4); the
# same computation with tol = 1e-14 is written too (cohen.d.ci exactly as psych, tighter root).
# Criteria: age and education, cor.test (Pearson, Fisher-z interval) per pair, pairwise complete.
# Writes tests/golden/validity/known_groups.json (full precision).
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
bfi <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))
blocks <- list(A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5), N = paste0("N", 1:5),
               O = paste0("O", 1:5))
reverse <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
scores <- as.data.frame(lapply(blocks, function(its) {
  k <- sapply(its, function(it) if (it %in% reverse) 7 - bfi[[it]] else bfi[[it]])
  s <- rowMeans(k, na.rm = TRUE)
  s[is.nan(s)] <- NA
  s
}))

cd <- psych::cohen.d(scores, group = bfi$gender, alpha = 0.05)

tight_ci <- function(d, n1, n2, alpha = 0.05) {  # psych::cohen.d.ci with uniroot(tol = 1e-14)
  t <- psych::d2t(d = d, n2 = n2, n1 = n1)
  nmax <- max(c(n1 + 1, n1 + n2))
  f <- function(p) uniroot(function(x) suppressWarnings(pt(q = t, df = nmax - 2, ncp = x)) - p,
                           c(min(-5, -abs(t) * 10), max(5, abs(t) * 10)), tol = 1e-14)$root
  c(lower = psych::t2d(f(1 - alpha / 2), n2 = n2, n1 = n1), upper = psych::t2d(f(alpha / 2), n2 = n2, n1 = n1))
}
groups <- list()
for (b in names(blocks)) {
  ok <- !is.na(scores[[b]]) & !is.na(bfi$gender)
  n1 <- sum(ok & bfi$gender == 1); n2 <- sum(ok & bfi$gender == 2)
  d <- cd$cohen.d[b, "effect"]; g <- cd$hedges.g[b, "effect"]
  groups[[b]] <- list(
    n1 = n1, n2 = n2,
    mean1 = mean(scores[[b]][ok & bfi$gender == 1]), mean2 = mean(scores[[b]][ok & bfi$gender == 2]),
    sd1 = sd(scores[[b]][ok & bfi$gender == 1]), sd2 = sd(scores[[b]][ok & bfi$gender == 2]),
    d = d, d_ci_psych = unname(cd$cohen.d[b, c("lower", "upper")]),
    d_ci = unname(tight_ci(d, n1, n2)),
    g = g, g_ci_psych = unname(cd$hedges.g[b, c("lower", "upper")]),
    g_ci = unname(tight_ci(g, n1, n2)),
    t = unname(cd$t[b]), p = unname(cd$p[b]),
    t_test = unname(t.test(scores[[b]][ok & bfi$gender == 2], scores[[b]][ok & bfi$gender == 1],
                           var.equal = TRUE)$statistic))
}

crit <- list()
for (b in names(blocks)) for (cr in c("age", "education")) {
  ct <- cor.test(scores[[b]], bfi[[cr]], method = "pearson", conf.level = 0.95)
  crit[[paste(b, cr, sep = "|")]] <- list(
    r = unname(ct$estimate), ci = unname(as.numeric(ct$conf.int)), t = unname(ct$statistic),
    df = unname(ct$parameter), p = ct$p.value, n = sum(!is.na(scores[[b]]) & !is.na(bfi[[cr]])))
}
ctt <- psych::corr.test(scores, bfi[c("age", "education")], adjust = "none")

res <- list(
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
  call = "psych::cohen.d(scores, group = gender); cor.test(score, criterion)",
  known_groups = groups, criteria = crit,
  corr_test_r = lapply(split(ctt$r, row(ctt$r)), unname), corr_test_ci = ctt$ci)
out_dir <- file.path("tests", "golden", "validity")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
write_json(res, file.path(out_dir, "known_groups.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null")
