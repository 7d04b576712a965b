# Golden values for custval's items / reliability / omega (tests/test_items.py, tests/test_reliability.py).
# Run from the repository root:  Rscript tests/r/reliability.R
# Writes tests/golden/reliability/*.json (full precision, names kept).
suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(jsonlite)
})
out_dir <- file.path("tests", "golden", "reliability")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
wj <- function(x, name) {
  write_json(x, file.path(out_dir, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             pretty = TRUE, na = "null")
}
versions <- list(R = R.version.string, psych = as.character(packageVersion("psych")),
                 GPArotation = as.character(packageVersion("GPArotation")))

named <- function(v, nm) { v <- as.numeric(v); names(v) <- nm; as.list(v) }

# all distinct splits (custval splits = "all")
all_splits <- function(R) {
  k <- ncol(R); m <- k %/% 2
  cmb <- combn(k, m)
  if (k %% 2 == 0) cmb <- cmb[, cmb[1, ] == 1, drop = FALSE]
  vals <- apply(cmb, 2, function(o) { a <- rep(0, k); a[o] <- 1; b <- 1 - a
    4 * drop(t(a) %*% R %*% b) / sum(R) })
  list(max = max(vals), mean = mean(vals), min = min(vals), n_splits = length(vals))
}

scale_stats <- function(x, policy) {
  # x: keyed data frame of one scale
  xx <- if (policy == "listwise") na.omit(x) else x
  a <- suppressWarnings(psych::alpha(xx, warnings = FALSE))
  n <- nrow(xx)
  k <- ncol(xx)
  C <- cov(xx, use = "pairwise")
  R <- cov2cor(C)
  sh <- suppressWarnings(splitHalf(xx, check.keys = FALSE))
  d <- describe(xx)
  ase <- a$total$ase
  list(
    items = colnames(x), n = n, n_items = k,
    alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha, G6 = a$total$`G6(smc)`,
    average_r = a$total$average_r, ase = ase,
    feldt_low = a$feldt$lower.ci[[1]], feldt_high = a$feldt$upper.ci[[1]],
    duhachek_low = a$total$raw_alpha - qnorm(0.975) * ase,
    duhachek_high = a$total$raw_alpha + qnorm(0.975) * ase,
    splithalf_psych = list(max = sh$maxrb, mean = sh$meanr, min = sh$minrb),
    splithalf_all = all_splits(R),
    alpha_drop = named(a$alpha.drop$raw_alpha, colnames(x)),
    std_alpha_drop = named(a$alpha.drop$std.alpha, colnames(x)),
    average_r_drop = named(a$alpha.drop$average_r, colnames(x)),
    raw_r = named(a$item.stats$raw.r, colnames(x)),
    r_cor = named(a$item.stats$r.cor, colnames(x)),
    r_drop = named(a$item.stats$r.drop, colnames(x)),
    item_n = named(d$n, colnames(x)),
    item_mean = named(d$mean, colnames(x)), item_sd = named(d$sd, colnames(x)),
    item_median = named(d$median, colnames(x)),
    item_min = named(d$min, colnames(x)), item_max = named(d$max, colnames(x)),
    item_skew = named(d$skew, colnames(x)), item_kurtosis = named(d$kurtosis, colnames(x)),
    call = sprintf("psych::alpha(%s)", if (policy == "listwise") "na.omit(x)" else "x")
  )
}

omega1 <- function(x, policy) {
  xx <- if (policy == "listwise") na.omit(x) else x
  om <- suppressMessages(suppressWarnings(psych::omega(xx, nfactors = 1, plot = FALSE)))
  sl <- om$schmid$sl
  g <- sl[, 1]; u2 <- sl[, "u2"]
  list(items = colnames(x), omega_total = om$omega.tot, omega_h = om$omega_h,
       omega_total_implied = sum(g)^2 / (sum(g)^2 + sum(u2)),
       loadings = named(g, colnames(x)), u2 = named(u2, colnames(x)),
       call = sprintf("psych::omega(%s, nfactors = 1)", if (policy == "listwise") "na.omit(x)" else "x"))
}

omega_sl <- function(x, nf, policy) {
  xx <- if (policy == "listwise") na.omit(x) else x
  om <- suppressMessages(suppressWarnings(psych::omega(xx, nfactors = nf, plot = FALSE)))
  sl <- om$schmid$sl
  g <- sl[, 1]; s <- sl[, 2:(nf + 1), drop = FALSE]; u2 <- sl[, "u2"]
  implied <- sum(g)^2 + sum(colSums(s)^2) + sum(u2)
  list(items = colnames(x), n_factors = nf,
       omega_h = om$omega_h, omega_total = om$omega.tot, omega_lim = om$omega.lim,
       omega_h_implied = sum(g)^2 / implied, omega_total_implied = (implied - sum(u2)) / implied,
       g = named(g, colnames(x)), h2 = named(sl[, "h2"], colnames(x)), u2 = named(u2, colnames(x)),
       ecv = unname(om$ECV),
       call = sprintf("psych::omega(%s, nfactors = %d)", if (policy == "listwise") "na.omit(x)" else "x", nf))
}

# ---------------------------------------------------------------- bfi (psychTools data as shipped in custval/_data)
bfi <- read.csv(file.path("custval", "_data", "bfi", "bfi.csv"))
rev_items <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")
keyed <- bfi
keyed[rev_items] <- 7 - keyed[rev_items]
scales <- list(A = paste0("A", 1:5), C = paste0("C", 1:5), E = paste0("E", 1:5),
               N = paste0("N", 1:5), O = paste0("O", 1:5))
res <- list(versions = versions, reverse = rev_items, scale_min = 1, scale_max = 6)
for (policy in c("pairwise", "listwise")) {
  res[[policy]] <- lapply(scales, function(it) scale_stats(keyed[it], policy))
  res[[paste0("omega1_", policy)]] <- lapply(scales, function(it) omega1(keyed[it], policy))
}
all25 <- unlist(scales, use.names = FALSE)
res$omega_sl <- list(
  nf3_listwise = omega_sl(keyed[all25], 3, "listwise"),
  nf5_pairwise = omega_sl(keyed[all25], 5, "pairwise")
)
# unkeyed alpha: what psych reports without keys (items A1 etc. negative)
res$unkeyed_A_listwise <- scale_stats(bfi[scales$A], "listwise")
wj(res, "bfi")

# ---------------------------------------------------------------- mobi ECSI blocks (1-10, no NA)
mobi <- read.csv(file.path("custval", "_data", "mobi", "mobi.csv"))
blocks <- list(IMAG = paste0("IMAG", 1:5), CUEX = paste0("CUEX", 1:3), PERQ = paste0("PERQ", 1:7),
               PERV = paste0("PERV", 1:2), CUSA = paste0("CUSA", 1:3), CUSL = paste0("CUSL", 1:3))
res <- list(versions = versions)
res$listwise <- lapply(blocks, function(it) scale_stats(mobi[it], "listwise"))
b3 <- blocks[sapply(blocks, length) >= 3]
res$omega1_listwise <- lapply(b3, function(it) omega1(mobi[it], "listwise"))
res$omega_sl <- list(nf3_listwise = omega_sl(mobi[unlist(b3[c("IMAG", "PERQ", "CUSA", "CUSL")], use.names = FALSE)], 3, "listwise"))
wj(res, "mobi")

# ---------------------------------------------------------------- simulated instrument (seeded, labelled simulated)
# 3 constructs x 4 items, 1-7 scale, one reverse item per construct, ~3% missing completely at random.
set.seed(20240601)
n <- 400
f <- matrix(rnorm(n * 3), n) %*% chol(matrix(c(1, .4, .3, .4, 1, .5, .3, .5, 1), 3))
lam <- c(.8, .7, .6, .5)
sim <- NULL; nm <- NULL
for (j in 1:3) for (i in 1:4) {
  y <- lam[i] * f[, j] + sqrt(1 - lam[i]^2) * rnorm(n)
  v <- as.numeric(cut(y, c(-Inf, -1.5, -.8, -.25, .25, .8, 1.5, Inf)))
  if (i == 4) v <- 8 - v  # reverse-worded item: stored unreversed in the data
  sim <- cbind(sim, v); nm <- c(nm, paste0(c("V", "W", "X")[j], i))
}
colnames(sim) <- nm
miss <- matrix(runif(length(sim)) < .03, nrow(sim))
sim[miss] <- NA
sim <- as.data.frame(sim)
sim_rev <- c("V4", "W4", "X4")
sk <- sim; sk[sim_rev] <- 8 - sk[sim_rev]
sscales <- list(V = paste0("V", 1:4), W = paste0("W", 1:4), X = paste0("X", 1:4))
res <- list(versions = versions, simulated = TRUE, reverse = sim_rev, scale_min = 1, scale_max = 7,
            data = lapply(sim, function(v) v))
for (policy in c("pairwise", "listwise")) {
  res[[policy]] <- lapply(sscales, function(it) scale_stats(sk[it], policy))
  res[[paste0("omega1_", policy)]] <- lapply(sscales, function(it) omega1(sk[it], policy))
}
res$omega_sl <- list(nf3_listwise = omega_sl(sk[unlist(sscales, use.names = FALSE)], 3, "listwise"))
wj(res, "sim")
cat("golden reliability values written to", out_dir, "\n")

# ---------------------------------------------------------------- screening indices (base R, independent code)
# longstring: longest run of identical consecutive answers, NA ends a run; irv: sd over answered items;
# Mahalanobis on answered items with item means (all valid answers) and cov(x, use = "pairwise").
items25 <- unlist(scales, use.names = FALSE)
X <- as.matrix(bfi[items25])
ls_fun <- function(v) { best <- 0; run <- 0; prev <- NA
  for (a in v) { if (is.na(a)) run <- 0 else if (!is.na(prev) && a == prev) run <- run + 1 else run <- 1
    best <- max(best, run); prev <- a }
  best }
mu <- colMeans(X, na.rm = TRUE)
S <- cov(X, use = "pairwise")
d2 <- apply(X, 1, function(v) { o <- !is.na(v); if (!any(o)) return(NA)
  d <- v[o] - mu[o]; drop(t(d) %*% solve(S[o, o, drop = FALSE], d)) })
dfree <- rowSums(!is.na(X))
Xc <- X[complete.cases(X), ]
res <- list(versions = versions, items = items25, id = bfi$id,
            longstring = apply(X, 1, ls_fun),
            irv = apply(X, 1, function(v) if (sum(!is.na(v)) < 2) NA else sd(v, na.rm = TRUE)),
            mahalanobis = unname(d2), mahalanobis_p = pchisq(unname(d2), dfree, lower.tail = FALSE),
            complete_id = bfi$id[complete.cases(X)],
            mahalanobis_complete = unname(mahalanobis(Xc, colMeans(Xc), cov(Xc))))
wj(res, "screen")
