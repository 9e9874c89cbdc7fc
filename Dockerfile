# Weir in a container: the project's own install and build, nothing else.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
# A project (weir.config.ts, models/, dashboards/) is mounted or copied at /project.
WORKDIR /project
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/weir.js"]
CMD ["run"]
