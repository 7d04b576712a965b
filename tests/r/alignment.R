# Golden values for custval.alignment, computed by sirt's own alignment code.
#
# Run from the repository root:
#   SIRT_SRC=/path/to/sirt Rscript tests/r/alignment.R
# SIRT_SRC is a checkout (or `git archive`) of https://github.com/alexanderrobitzsch/sirt at commit
# 0a41c722b5788f279d77aa9757b51cffd32f860c (sirt 4.3-21; GPL >= 2).  sirt itself need not be
# installed: the script evaluates $SIRT_SRC/R/*.R into an environment (skipping the few files
# whose top-level code needs packages the alignment code does not use) and compiles
# $SIRT_SRC/src/sirt_rcpp_invariance_alignment.cpp with Rcpp::sourceCpp (needs Rcpp and
# RcppArmadillo); the example data come from $SIRT_SRC/data/*.rda.  lavaan 0.6-14 fits the
# configural models.
#
# sirt::invariance.alignment(lambda, nu, wgt, align.pow = c(.5, .5), eps = .01, meth = 1):
# loss f(d) = (d^2 + eps)^(align.pow / 2) = sqrt(sqrt(d^2 + .01)) (Asparouhov & Muthen's component
# loss with Mplus' eps = .01), weights sqrt(N_g) per group (sirt multiplies the two groups' weights,
# so a pair weighs sqrt(N_g N_h)), first group's mean 0 and SD 1 (Mplus FIXED).  The optimiser is
# run to a tight tolerance (control factr = 1, pgtol = 0) so the goldens are the optimum, not
# optim's stopping point.  sirt reports psi0 as factor SDs: variances are psi0^2.
#
# Writes tests/golden/alignment/sirt.json and the simulated data firms.csv (jsonlite, digits = NA).
suppressPackageStartupMessages({library(jsonlite); library(lavaan)})

src <- Sys.getenv("SIRT_SRC")
if (!nzchar(src)) {
  message("SIRT_SRC is not set: tests/golden/alignment left unchanged (see the header of tests/r/alignment.R)")
  quit(save = "no", status = 0)
}
sirt <- new.env()
for (f in sort(list.files(file.path(src, "R"), pattern = "[.]R$", full.names = TRUE))) {
  code <- gsub("sirt::", "", readLines(f, warn = FALSE), fixed = TRUE)
  # a few files run top-level code needing packages (TAM, CDM) the alignment code does not use
  tryCatch(eval(parse(text = code, keep.source = FALSE), envir = sirt), error = function(e) NULL)
}
for (f in c("invariance.alignment", "sirt_optimizer", "sirt_rsquared", "sirt_matrix_names",
            "sirt_colMedians", "sqrt_diag", "mgsem_add_increment")) {
  if (!exists(f, envir = sirt, inherits = FALSE)) stop("sirt source did not define ", f)
}
Rcpp::sourceCpp(file.path(src, "src", "sirt_rcpp_invariance_alignment.cpp"), env = sirt)
attach(sirt, name = "sirt_src", warn.conflicts = FALSE)

out_dir <- file.path("tests", "golden", "alignment")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
mat <- function(m) {
  m <- as.matrix(m)
  list(rows = rownames(m), cols = colnames(m),
       values = unname(lapply(seq_len(nrow(m)), function(i) unname(as.numeric(m[i, ])))))
}
ctrl <- list(factr = 1, pgtol = 0, maxit = 10000)

align <- function(lambda, nu, N, vcov = NULL) {
  wgt <- matrix(sqrt(N), nrow(lambda), ncol(lambda))
  mod <- invariance.alignment(lambda, nu, wgt, align.pow = c(.5, .5), eps = .01, meth = 1,
                              vcov = vcov, control = ctrl)
  list(
    call = "invariance.alignment(lambda, nu, wgt = sqrt(N), align.pow = c(.5, .5), eps = .01, meth = 1)",
    lambda = mat(lambda), nu = mat(nu), n = as.numeric(N), groups = rownames(lambda),
    alpha0 = as.numeric(mod$pars$alpha0), psi0 = as.numeric(mod$pars$psi0),
    fopt = mod$fopt, lambda_aligned = mat(mod$lambda.aligned), nu_aligned = mat(mod$nu.aligned),
    R2 = as.list(mod$es.invariance["R2", ]), rbar = as.list(mod$es.invariance["rbar", ]),
    se = if (is.null(mod$SE)) NULL else as.list(mod$SE)
  )
}

# configural fit by lavaan: factor variance 1 and mean 0 in every group (std.lv), then the
# loadings / intercepts per group (rows) and item (columns), and their sampling covariance in
# sirt's order (group, then lambda before nu, then item).
configural <- function(model, data, group, items) {
  fit <- cfa(model, data = data, group = group, std.lv = TRUE)
  pt <- parTable(fit)
  glab <- lavInspect(fit, "group.label")
  G <- length(glab); I <- length(items)
  lambda <- nu <- matrix(NA, G, I, dimnames = list(glab, items))
  idx <- c(); nm <- c()
  for (g in seq_len(G)) {
    for (kind in c("lambda", "nu")) {
      for (i in seq_len(I)) {
        row <- if (kind == "lambda") which(pt$op == "=~" & pt$rhs == items[i] & pt$group == g)
               else which(pt$op == "~1" & pt$lhs == items[i] & pt$group == g)
        if (kind == "lambda") lambda[g, i] <- pt$est[row] else nu[g, i] <- pt$est[row]
        idx <- c(idx, pt$free[row]); nm <- c(nm, paste0(kind, "_", glab[g], "_", items[i]))
      }
    }
  }
  V <- lavInspect(fit, "vcov")[idx, idx]
  dimnames(V) <- list(nm, nm)
  list(lambda = lambda, nu = nu, N = unlist(lavInspect(fit, "nobs")), vcov = V,
       converged = lavInspect(fit, "converged"))
}

cases <- list()

# -- 1. sirt's published example data: data.activity.itempars (9 countries, 5 items; lambda, nu, N)
e <- new.env(); load(file.path(src, "data", "data.activity.itempars.rda"), envir = e)
ip <- e$data.activity.itempars
cases$activity <- align(ip$lambda, ip$nu, as.numeric(ip$N))
cases$activity$source <- "sirt data.activity.itempars (invariance.alignment example 1)"

# -- 2. sirt's data.inv4gr (4 groups x 1000, 11 items; invariance.alignment example 2), configural by lavaan
e <- new.env(); load(file.path(src, "data", "data.inv4gr.rda"), envir = e)
inv <- e$data.inv4gr
items <- sprintf("I%02d", 1:11)
write.csv(inv, file.path(out_dir, "inv4gr.csv"), row.names = FALSE)
cf <- configural(paste("F =~", paste(items, collapse = " + ")), inv, "group", items)
cases$inv4gr <- align(cf$lambda, cf$nu, cf$N, vcov = cf$vcov)
cases$inv4gr$source <- "sirt data.inv4gr (invariance.alignment example 2), configural cfa(std.lv = TRUE, group = 'group')"
cases$inv4gr$syntax <- paste("F =~", paste(items, collapse = " + "))
cases$inv4gr$group <- "group"
# the documented example 2 call itself, sirt's defaults (eps = .001, weights 1: the four groups
# have 1000 cases each, so sqrt(N) weights give the same optimum); sirt's help page shows the
# output of an older sirt version, which today's sirt no longer reproduces
mod <- invariance.alignment(lambda = cf$lambda, nu = cf$nu, align.pow = c(.5, .5), control = ctrl)
cases$inv4gr_sirt_defaults <- list(
  call = "invariance.alignment(lambda = lambda, nu = nu, align.pow = c(.5, .5))  # eps = .001, wgt = 1",
  lambda = mat(cf$lambda), nu = mat(cf$nu), n = as.numeric(cf$N), groups = rownames(cf$lambda),
  alpha0 = as.numeric(mod$pars$alpha0), psi0 = as.numeric(mod$pars$psi0), fopt = mod$fopt,
  R2 = as.list(mod$es.invariance["R2", ]), eps = 0.001)

# -- 3. simulated firms: 12 firms, one factor, six items; a few intercepts / loadings differ
set.seed(20261207)
G <- 12; I <- 6
firms <- sprintf("F%02d", 1:G)
n <- c(180, 240, 150, 320, 210, 260, 190, 300, 170, 230, 280, 200)
alpha <- c(0, 0.25, -0.3, 0.1, 0.45, -0.15, 0.3, -0.05, 0.2, -0.4, 0.05, 0.35)
psi <- c(1, 1.2, 0.8, 1.1, 0.9, 1.3, 1.0, 0.85, 1.15, 0.95, 1.05, 1.25)
lam <- matrix(c(0.8, 0.7, 0.9, 0.75, 0.6, 0.85), G, I, byrow = TRUE)
nu0 <- matrix(c(4.5, 4.2, 4.8, 4.0, 4.4, 4.6), G, I, byrow = TRUE)
nu0[3, 2] <- nu0[3, 2] + 0.6; nu0[7, 5] <- nu0[7, 5] - 0.5; nu0[10, 1] <- nu0[10, 1] + 0.5
lam[5, 4] <- 0.4; lam[11, 3] <- 1.2
rows <- list()
for (g in 1:G) {
  eta <- alpha[g] + sqrt(psi[g]) * rnorm(n[g])
  y <- sapply(1:I, function(i) nu0[g, i] + lam[g, i] * eta + rnorm(n[g], sd = 0.6))
  rows[[g]] <- data.frame(firm = firms[g], round(y, 3))
}
firm_data <- do.call(rbind, rows)
names(firm_data) <- c("firm", paste0("cv", 1:I))
write.csv(firm_data, file.path(out_dir, "firms.csv"), row.names = FALSE)
items <- paste0("cv", 1:I)
syn <- paste("value =~", paste(items, collapse = " + "))
cf <- configural(syn, firm_data, "firm", items)
cases$firms <- align(cf$lambda, cf$nu, cf$N, vcov = cf$vcov)
cases$firms$source <- "simulated firms.csv, configural cfa(std.lv = TRUE, group = 'firm')"
cases$firms$syntax <- syn
cases$firms$group <- "firm"
cases$firms$truth <- list(alpha = alpha, psi = psi)

writeLines(toJSON(cases, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"),
           file.path(out_dir, "sirt.json"))
message("wrote ", file.path(out_dir, "sirt.json"))
