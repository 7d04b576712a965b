# Golden values for custval.gaps, computed with base R from the committed simulated data
# tests/golden/gaps/{provider,customer}.csv (SIMULATED: custval.simulate.case_study, seed 21).
# ICC(1)/ICC(2) as multilevel::ICC1/ICC2 (one-way aov, mean group size N/G; Bliese, 2000);
# r_wg(J) as multilevel::rwg.j (uniform null (A^2-1)/12, 0 when the mean item variance exceeds it).
# Run from the repository root: Rscript tests/r/gaps.R
library(jsonlite)
prov <- read.csv("tests/golden/gaps/provider.csv", stringsAsFactors = FALSE)
cust <- read.csv("tests/golden/gaps/customer.csv", stringsAsFactors = FALSE)
rev_items <- c("CPROC_P5", "COCR_P5", "CPROC_C5", "COCR_C5")
key <- function(d) { for (v in intersect(rev_items, names(d))) d[[v]] <- 8 - d[[v]]; d }
kp <- key(prov); kc <- key(cust)
score <- function(d, items) { s <- rowMeans(d[, items, drop = FALSE], na.rm = TRUE); s[is.nan(s)] <- NA; s }
items_of <- function(d, cons, side) grep(paste0("^", cons, "_", side, "[0-9]+$"), names(d), value = TRUE)
paired <- function(cons) {
  p <- items_of(prov, cons, "P"); cc <- items_of(cust, cons, "C")
  k <- intersect(sub(".*_P", "", p), sub(".*_C", "", cc))
  list(P = paste0(cons, "_P", k), C = paste0(cons, "_C", k))
}
out <- list()
# readiness per firm and role
sp <- sapply(c("CPROC", "OPROC", "CQUAL", "OQUAL", "MGMT", "OPER"), function(c) score(kp, items_of(prov, c, "P")))
ind <- data.frame(process_understanding = sp[, "CPROC"] - sp[, "OPROC"],
                  quality_understanding = sp[, "CQUAL"] - sp[, "OQUAL"],
                  management = sp[, "MGMT"], operations = sp[, "OPER"])
rd <- list()
for (f in sort(unique(prov$firm))) for (r in c("manager", "staff")) for (ix in names(ind)) {
  v <- ind[prov$firm == f & prov$role == r, ix]; v <- v[!is.na(v)]
  rd[[length(rd) + 1]] <- list(firm = f, role = r, index = ix, estimate = mean(v), se = sd(v) / sqrt(length(v)),
                               n = length(v))
}
out$readiness <- rd
# perception gaps
ga <- list(); gf <- list()
for (cons in c("CPROC", "CQUAL", "MGMT", "OPER", "DIGI", "COCR")) {
  pr <- paired(cons)
  ps <- score(kp, pr$P); cs <- score(kc, pr$C)
  for (f in sort(unique(prov$firm))) {
    pa <- tapply(ps[prov$firm == f], prov$account[prov$firm == f], mean, na.rm = TRUE)
    ca <- tapply(cs[cust$firm == f], cust$account[cust$firm == f], mean, na.rm = TRUE)
    acc <- intersect(names(pa), names(ca))
    d <- pa[acc] - ca[acc]; ok <- !is.na(d); d <- d[ok]
    tt <- t.test(pa[acc][ok], ca[acc][ok], paired = TRUE)
    ga[[length(ga) + 1]] <- list(firm = f, construct = cons, provider = mean(pa[acc][ok]), customer = mean(ca[acc][ok]),
                                 estimate = mean(d), se = unname(tt$stderr), d_z = mean(d) / sd(d), n = length(d))
    p <- ps[prov$firm == f]; p <- p[!is.na(p)]; q <- cs[cust$firm == f]; q <- q[!is.na(q)]
    sp2 <- sqrt(((length(p) - 1) * var(p) + (length(q) - 1) * var(q)) / (length(p) + length(q) - 2))
    gf[[length(gf) + 1]] <- list(firm = f, construct = cons, estimate = mean(p) - mean(q), d = (mean(p) - mean(q)) / sp2,
                                 n_provider = length(p), n_customer = length(q))
  }
}
out$gap_account <- ga
out$gap_firm <- gf
# ICC(1), ICC(2), r_wg(J)
agg <- list(); agr <- list()
for (side in c("provider", "customer")) {
  d <- if (side == "provider") kp else kc
  raw <- if (side == "provider") prov else cust
  tag <- if (side == "provider") "P" else "C"
  cons_all <- unique(sub("_[PC][0-9]+$", "", grep(paste0("_", tag, "[0-9]+$"), names(raw), value = TRUE)))
  for (cons in cons_all) {
    it <- items_of(raw, cons, tag)
    y <- score(d, it); g <- factor(raw$firm); ok <- !is.na(y)
    a <- summary(aov(y[ok] ~ g[ok]))[[1]]
    msb <- a[1, 3]; msw <- a[2, 3]; gsize <- (a[2, 1] + (a[1, 1] + 1)) / (a[1, 1] + 1)
    agg[[length(agg) + 1]] <- list(side = side, construct = cons, icc1 = (msb - msw) / (msb + (gsize - 1) * msw),
                                   icc2 = (msb - msw) / msb)
    for (f in sort(unique(raw$firm))) {
      x <- d[raw$firm == f, it, drop = FALSE]
      s2 <- mean(apply(x, 2, var, na.rm = TRUE)); J <- length(it); q <- s2 / 4
      rwg <- if (s2 > 4) 0 else J * (1 - q) / (J * (1 - q) + q)
      agr[[length(agr) + 1]] <- list(side = side, firm = f, construct = cons, rwg_j = rwg)
    }
  }
}
out$aggregation <- agg
out$agreement <- agr
out$r_version <- R.version.string
write_json(out, "tests/golden/gaps/gaps.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)

# ---------------------------------------------------------------------------------------------
# Latent-mean perception gaps (custval.gaps.latent_perception_gap) with lavaan, on the committed
# SIMULATED exports tests/golden/gaps/latent_{provider,customer}.csv (custval.simulate.case_study(seed=0)
# through CaseStudy.validated(); only firm, account and the CPROC / CQUAL items are kept).
# Paired items are stacked as <construct>_<k>; groups firm/form (or the two forms); loadings and
# intercepts equal across groups, the released pair (CQUAL_2: loading and intercept) labelled per
# form; gap = (kappa_provider - kappa_customer) / sqrt(psi_provider) as a := parameter (delta method).
# Each fit is polished (BFGS restarted from lavaan's solution, reltol 1e-16) as in validity.R.
suppressMessages(library(lavaan))
# reverse-keyed items (CPROC_P5 / CPROC_C5) keyed as 8 - x before stacking, as custval does
lprov <- key(read.csv("tests/golden/gaps/latent_provider.csv", stringsAsFactors = FALSE))
lcust <- key(read.csv("tests/golden/gaps/latent_customer.csv", stringsAsFactors = FALSE))
stack_forms <- function(cons, k, by_firm) {
  pn <- paste0(cons, "_P", k); cn <- paste0(cons, "_C", k); nm <- paste0(cons, "_", seq_along(k))
  firms <- if (by_firm) sort(unique(lprov$firm)) else NA
  parts <- list()
  for (f in firms) for (side in c("provider", "customer")) {
    d <- if (side == "provider") lprov else lcust
    if (by_firm) d <- d[d$firm == f, ]
    x <- d[, if (side == "provider") pn else cn]; names(x) <- nm
    x$account <- d$account
    x <- x[complete.cases(x[, nm]), ]
    x$group <- if (by_firm) paste0(f, "/", side) else side
    parts[[length(parts) + 1]] <- x
  }
  do.call(rbind, parts)
}
latent_case <- function(cons, by_firm, released = integer(0), estimator = "ML", cluster = NULL) {
  st <- stack_forms(cons, 1:5, by_firm)
  groups <- unique(st$group); G <- length(groups)
  form <- ifelse(grepl("provider$", groups), "p", "c")
  nm <- paste0(cons, "_", 1:5)
  terms <- ifelse(1:5 %in% released, paste0("c(", sapply(1:5, function(j) paste0("l", j, "_", form, collapse = ", ")), ")*", nm), nm)
  ints <- sapply(released, function(j) paste0(nm[j], " ~ c(", paste0("i", j, "_", form, collapse = ", "), ")*1"))
  prov_g <- seq(1, G, 2); cust_g <- seq(2, G, 2)
  defs <- paste0("d", seq_along(prov_g), " := (m", prov_g, " - m", cust_g, ") / sqrt(v", prov_g, ")")
  defs <- sub("\\(m1 ", "(0 ", defs)
  raw <- sub("\\(m1 ", "(0 ", paste0("r", seq_along(prov_g), " := (m", prov_g, " - m", cust_g, ")"))
  model <- paste(c(paste0(cons, " =~ ", paste(terms, collapse = " + ")), unlist(ints),
                   paste0(cons, " ~ c(0, ", paste(rep("NA", G - 1), collapse = ", "), ")*1 + c(",
                          paste0("m", 1:G, collapse = ", "), ")*1"),
                   paste0(cons, " ~~ c(", paste0("v", 1:G, collapse = ", "), ")*", cons), defs, raw),
                 collapse = "\n")
  fit <- cfa(model, st, group = "group", group.label = groups, group.equal = c("loadings", "intercepts"),
             estimator = estimator, cluster = cluster)
  pol <- cfa(model, st, group = "group", group.label = groups, group.equal = c("loadings", "intercepts"),
             estimator = estimator, cluster = cluster,
             start = fit, optim.method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
  pe <- parameterEstimates(pol)
  dd <- pe[pe$op == ":=" & grepl("^d", pe$lhs), ]
  rr <- pe[pe$op == ":=" & grepl("^r", pe$lhs), ]
  lm <- pe[pe$op == "~1" & pe$lhs == cons, ]
  lv <- pe[pe$op == "~~" & pe$lhs == cons & pe$rhs == cons, ]
  list(construct = cons, by = if (by_firm) "firm" else "none", model = model, groups = groups,
       n = as.list(setNames(lavInspect(pol, "nobs"), groups)),
       firm = if (by_firm) sub("/provider$", "", groups[prov_g]) else "all",
       estimate = dd$est, se = dd$se, difference_raw = rr$est, se_raw = rr$se,
       latent_mean = lm$est, latent_mean_se = lm$se, latent_var = lv$est, latent_var_se = lv$se,
       chisq = unname(fitMeasures(pol, "chisq")), df = unname(fitMeasures(pol, "df")),
       max_gradient = max(abs(lavInspect(fit, "optim.gradient"))),
       max_gradient_polished = max(abs(lavInspect(pol, "optim.gradient"))),
       estimator = estimator,
       r_call = "lavaan::cfa(model, stacked, group = 'group', group.equal = c('loadings', 'intercepts'))")
}
latent <- list(CPROC_firm = latent_case("CPROC", TRUE), CQUAL_firm = latent_case("CQUAL", TRUE, 2L),
               CPROC_none = latent_case("CPROC", FALSE), CQUAL_none = latent_case("CQUAL", FALSE, 2L),
               CQUAL_firm_MLR = latent_case("CQUAL", TRUE, 2L, estimator = "MLR"),
               # cluster-robust (customers and staff clustered in accounts within each firm/form group)
               CQUAL_firm_MLR_account = latent_case("CQUAL", TRUE, 2L, estimator = "MLR", cluster = "account"),
               r_version = R.version.string, lavaan_version = as.character(packageVersion("lavaan")))
write_json(latent, "tests/golden/gaps/latent_gap.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
