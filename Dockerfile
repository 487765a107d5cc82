# The AssureHub backend image: one image, the command picks the role
# (assurehub api | relay | projectors | migrate).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir "uv==0.13.9" && useradd --system --uid 10001 assurehub
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY domain ./domain
COPY commands ./commands
COPY projections ./projections
COPY infra ./infra
COPY read_api ./read_api
COPY processors ./processors
RUN uv sync --frozen --no-dev
USER assurehub
EXPOSE 8000
ENTRYPOINT ["assurehub"]
CMD ["api"]
