/*
 * local.c - the local lexical scoring engine; see local.h for the contract
 * and docs/local-engine.md for the method and its reasons.
 *
 * One call to loc_score() owns one struct state: the two lowercased texts,
 * a term table (open addressing, linear probing, terms kept in insertion
 * order so every sum runs in an order that does not depend on the hash),
 * the token stream of each text and the aliases of the skill dictionary
 * resolved to term numbers.  Nothing outlives the call.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "answer.h"
#include "buf.h"
#include "local.h"

/* Skill kinds; only SK_SOFT changes the score (half weight). */
enum skind {
	SK_LANG,		/* programming and markup languages */
	SK_WEB,			/* web, mobile and API frameworks */
	SK_DB,			/* databases, warehouses, queues */
	SK_CLOUD,		/* cloud platforms and services */
	SK_DEVOPS,		/* ops, infrastructure, security, tooling */
	SK_DATA,		/* data, analytics, ML */
	SK_TEST,		/* testing */
	SK_METHOD,		/* methods and engineering areas */
	SK_DESIGN,		/* design tools and practice */
	SK_BIZ,			/* business software and practice */
	SK_HEALTH,		/* clinical skills */
	SK_SOFT,		/* soft skills */
	SK__MAX
};

/*
 * A dictionary entry: display name, kind, and '|'-separated aliases in
 * lowercase.  Each alias is tokenized like the texts, so "ci/cd" is the
 * two words "ci cd" and also matches "CI-CD" or "CI / CD".  A leading '?'
 * marks an alias that is also an ordinary word: it counts only in a skill
 * context (see accept_hits()).
 */
struct skill {
	const char	*name;
	enum skind	 kind;
	const char	*aliases;
};

static const struct skill skills[] = {
	{ "Python", SK_LANG, "python|python3" },
	{ "Java", SK_LANG, "java|java ee|j2ee|jakarta ee" },
	{ "JavaScript", SK_LANG, "javascript|js|ecmascript|es6|vanilla js" },
	{ "TypeScript", SK_LANG, "typescript|?ts" },
	{ "C", SK_LANG, "?c|ansi c|c99|c11" },
	{ "C++", SK_LANG, "c++|cpp|cplusplus" },
	{ "C#", SK_LANG, "c#|csharp|c sharp" },
	{ "Go", SK_LANG, "golang|?go" },
	{ "Rust", SK_LANG, "rust|rustlang" },
	{ "Ruby", SK_LANG, "?ruby" },
	{ "PHP", SK_LANG, "php|php7|php8" },
	{ "Swift", SK_LANG, "?swift" },
	{ "Kotlin", SK_LANG, "kotlin" },
	{ "Scala", SK_LANG, "scala" },
	{ "R", SK_LANG, "?r|rstudio" },
	{ "MATLAB", SK_LANG, "matlab" },
	{ "Perl", SK_LANG, "perl" },
	{ "Haskell", SK_LANG, "haskell" },
	{ "Elixir", SK_LANG, "elixir" },
	{ "Erlang", SK_LANG, "erlang" },
	{ "Clojure", SK_LANG, "clojure" },
	{ "Lua", SK_LANG, "lua" },
	{ "Dart", SK_LANG, "?dart" },
	{ "Objective-C", SK_LANG, "objective-c|objc" },
	{ "F#", SK_LANG, "f#" },
	{ "Julia", SK_LANG, "?julia" },
	{ "Groovy", SK_LANG, "groovy" },
	{ "COBOL", SK_LANG, "cobol" },
	{ "Fortran", SK_LANG, "fortran" },
	{ "Visual Basic", SK_LANG, "visual basic|vb.net|vba" },
	{ "Solidity", SK_LANG, "solidity" },
	{ "Bash", SK_LANG,
	    "bash|shell scripting|shell script|shell scripts|zsh|?shell" },
	{ "PowerShell", SK_LANG, "powershell" },
	{ "SQL", SK_LANG, "sql" },
	{ "PL/SQL", SK_LANG, "pl/sql|plsql" },
	{ "T-SQL", SK_LANG, "t-sql|tsql" },
	{ "HTML", SK_LANG, "html|html5" },
	{ "CSS", SK_LANG, "css|css3" },
	{ "Sass", SK_LANG, "sass|scss" },
	{ "React", SK_WEB, "react.js|reactjs|?react" },
	{ "Angular", SK_WEB, "angular|angularjs|angular.js" },
	{ "Vue.js", SK_WEB, "vue|vue.js|vuejs" },
	{ "Svelte", SK_WEB, "svelte|sveltekit" },
	{ "Next.js", SK_WEB, "next.js|nextjs" },
	{ "Nuxt", SK_WEB, "nuxt|nuxt.js" },
	{ "jQuery", SK_WEB, "jquery" },
	{ "Redux", SK_WEB, "redux" },
	{ "Tailwind CSS", SK_WEB, "tailwind|tailwindcss|tailwind css" },
	{ "Bootstrap", SK_WEB, "?bootstrap" },
	{ "Webpack", SK_WEB, "webpack" },
	{ "Vite", SK_WEB, "vite" },
	{ "React Native", SK_WEB, "react native" },
	{ "Flutter", SK_WEB, "flutter" },
	{ "GraphQL", SK_WEB, "graphql" },
	{ "REST APIs", SK_WEB,
	    "rest api|rest apis|restful|restful api|restful apis|"
	    "rest services|?rest" },
	{ "gRPC", SK_WEB, "grpc" },
	{ "WebSockets", SK_WEB, "websocket|websockets" },
	{ "Node.js", SK_WEB, "node.js|nodejs|?node" },
	{ "Express", SK_WEB, "express.js|expressjs|?express" },
	{ "NestJS", SK_WEB, "nestjs|nest.js" },
	{ "Django", SK_WEB, "django" },
	{ "Flask", SK_WEB, "?flask" },
	{ "FastAPI", SK_WEB, "fastapi" },
	{ "Spring", SK_WEB,
	    "spring boot|springboot|spring framework|spring mvc|?spring" },
	{ "Ruby on Rails", SK_WEB, "rails|ruby on rails|ror" },
	{ "Laravel", SK_WEB, "laravel" },
	{ "Symfony", SK_WEB, "symfony" },
	{ "ASP.NET", SK_WEB, "asp.net|asp.net core|aspnet|asp.net mvc" },
	{ ".NET", SK_WEB, ".net|dotnet|.net core|.net framework" },
	{ "Hibernate", SK_WEB, "hibernate" },
	{ "Entity Framework", SK_WEB, "entity framework|ef core" },
	{ "Microservices", SK_WEB,
	    "microservices|microservice|micro-services" },
	{ "PostgreSQL", SK_DB, "postgresql|postgres|psql" },
	{ "MySQL", SK_DB, "mysql" },
	{ "MariaDB", SK_DB, "mariadb" },
	{ "SQLite", SK_DB, "sqlite" },
	{ "Oracle Database", SK_DB, "oracle db|oracle database|?oracle" },
	{ "SQL Server", SK_DB, "sql server|mssql|ms sql" },
	{ "MongoDB", SK_DB, "mongodb|mongo" },
	{ "Redis", SK_DB, "redis" },
	{ "Cassandra", SK_DB, "cassandra" },
	{ "DynamoDB", SK_DB, "dynamodb" },
	{ "Elasticsearch", SK_DB, "elasticsearch|elastic search|opensearch" },
	{ "Neo4j", SK_DB, "neo4j" },
	{ "Snowflake", SK_DB, "?snowflake" },
	{ "BigQuery", SK_DB, "bigquery" },
	{ "Redshift", SK_DB, "redshift" },
	{ "Firebase", SK_DB, "firebase|firestore" },
	{ "Kafka", SK_DB, "kafka|apache kafka" },
	{ "RabbitMQ", SK_DB, "rabbitmq" },
	{ "NoSQL", SK_DB, "nosql" },
	{ "AWS", SK_CLOUD, "aws|amazon web services" },
	{ "Azure", SK_CLOUD, "azure|microsoft azure" },
	{ "GCP", SK_CLOUD, "gcp|google cloud|google cloud platform" },
	{ "AWS Lambda", SK_CLOUD, "aws lambda|?lambda" },
	{ "EC2", SK_CLOUD, "ec2" },
	{ "S3", SK_CLOUD, "s3|amazon s3" },
	{ "Heroku", SK_CLOUD, "heroku" },
	{ "DigitalOcean", SK_CLOUD, "digitalocean|digital ocean" },
	{ "Cloudflare", SK_CLOUD, "cloudflare" },
	{ "Serverless", SK_CLOUD, "serverless" },
	{ "OpenStack", SK_CLOUD, "openstack" },
	{ "Docker", SK_DEVOPS, "docker|dockerfile|docker compose" },
	{ "Kubernetes", SK_DEVOPS, "kubernetes|k8s|kubectl|eks|aks|gke" },
	{ "Helm", SK_DEVOPS, "helm" },
	{ "Terraform", SK_DEVOPS, "terraform" },
	{ "Ansible", SK_DEVOPS, "ansible" },
	{ "Puppet", SK_DEVOPS, "?puppet" },
	{ "Chef", SK_DEVOPS, "?chef" },
	{ "Jenkins", SK_DEVOPS, "jenkins" },
	{ "GitLab CI", SK_DEVOPS, "gitlab ci|gitlab" },
	{ "GitHub Actions", SK_DEVOPS, "github actions" },
	{ "CircleCI", SK_DEVOPS, "circleci" },
	{ "CI/CD", SK_DEVOPS,
	    "ci/cd|cicd|continuous integration|continuous delivery|"
	    "continuous deployment" },
	{ "Git", SK_DEVOPS, "git" },
	{ "GitHub", SK_DEVOPS, "github" },
	{ "Linux", SK_DEVOPS, "linux|ubuntu|debian|centos|rhel|red hat" },
	{ "Unix", SK_DEVOPS, "unix" },
	{ "Nginx", SK_DEVOPS, "nginx" },
	{ "Apache HTTP Server", SK_DEVOPS, "apache httpd|apache http server" },
	{ "Prometheus", SK_DEVOPS, "prometheus" },
	{ "Grafana", SK_DEVOPS, "grafana" },
	{ "ELK Stack", SK_DEVOPS, "elk|elk stack|logstash|kibana" },
	{ "Datadog", SK_DEVOPS, "datadog" },
	{ "Splunk", SK_DEVOPS, "splunk" },
	{ "OpenTelemetry", SK_DEVOPS, "opentelemetry" },
	{ "Istio", SK_DEVOPS, "istio" },
	{ "Argo CD", SK_DEVOPS, "argo cd|argocd" },
	{ "Vagrant", SK_DEVOPS, "vagrant" },
	{ "Site Reliability Engineering", SK_DEVOPS,
	    "site reliability engineering|site reliability|sre" },
	{ "Infrastructure as Code", SK_DEVOPS, "infrastructure as code|iac" },
	{ "Networking", SK_DEVOPS, "tcp/ip|networking|computer networks" },
	{ "DNS", SK_DEVOPS, "dns" },
	{ "Cybersecurity", SK_DEVOPS,
	    "cybersecurity|cyber security|information security|infosec|"
	    "security engineering" },
	{ "OAuth", SK_DEVOPS, "oauth|oauth2|openid connect|oidc" },
	{ "Jira", SK_DEVOPS, "jira" },
	{ "Confluence", SK_DEVOPS, "confluence" },
	{ "VMware", SK_DEVOPS, "vmware|vsphere" },
	{ "Active Directory", SK_DEVOPS, "active directory" },
	{ "OpenAPI", SK_WEB, "openapi|swagger" },
	{ "JSON", SK_WEB, "json" },
	{ "XML", SK_WEB, "xml" },
	{ "Machine Learning", SK_DATA, "machine learning|?ml" },
	{ "Deep Learning", SK_DATA,
	    "deep learning|neural networks|neural network" },
	{ "NLP", SK_DATA, "nlp|natural language processing" },
	{ "Computer Vision", SK_DATA, "computer vision" },
	{ "OpenCV", SK_DATA, "opencv" },
	{ "TensorFlow", SK_DATA, "tensorflow|tf2" },
	{ "PyTorch", SK_DATA, "pytorch|torch" },
	{ "Keras", SK_DATA, "keras" },
	{ "scikit-learn", SK_DATA, "scikit-learn|sklearn|scikit learn" },
	{ "Pandas", SK_DATA, "pandas" },
	{ "NumPy", SK_DATA, "numpy" },
	{ "SciPy", SK_DATA, "scipy" },
	{ "Jupyter", SK_DATA, "jupyter|jupyter notebook|jupyter notebooks" },
	{ "Matplotlib", SK_DATA, "matplotlib|seaborn" },
	{ "XGBoost", SK_DATA, "xgboost|lightgbm" },
	{ "Apache Spark", SK_DATA, "apache spark|pyspark|spark sql|?spark" },
	{ "Hadoop", SK_DATA, "hadoop|hdfs|mapreduce" },
	{ "Airflow", SK_DATA, "airflow|apache airflow" },
	{ "dbt", SK_DATA, "?dbt" },
	{ "Databricks", SK_DATA, "databricks" },
	{ "ETL", SK_DATA, "etl|elt|data pipelines|data pipeline" },
	{ "Data Analysis", SK_DATA,
	    "data analysis|data analytics|data analyst" },
	{ "Statistics", SK_DATA,
	    "statistics|statistical analysis|statistical modeling" },
	{ "Tableau", SK_DATA, "tableau" },
	{ "Power BI", SK_DATA, "power bi|powerbi" },
	{ "Looker", SK_DATA, "looker" },
	{ "Excel", SK_DATA, "microsoft excel|ms excel|?excel" },
	{ "LLMs", SK_DATA,
	    "llm|llms|large language models|large language model" },
	{ "Generative AI", SK_DATA, "generative ai|genai|gen ai" },
	{ "Hugging Face", SK_DATA, "hugging face|huggingface" },
	{ "LangChain", SK_DATA, "langchain" },
	{ "MLOps", SK_DATA, "mlops" },
	{ "Data Visualization", SK_DATA,
	    "data visualization|data visualisation" },
	{ "A/B Testing", SK_DATA,
	    "a/b testing|a/b tests|ab testing|split testing" },
	{ "Unit Testing", SK_TEST, "unit testing|unit tests|unit test" },
	{ "TDD", SK_TEST, "tdd|test driven development" },
	{ "Selenium", SK_TEST, "selenium" },
	{ "Cypress", SK_TEST, "cypress" },
	{ "Jest", SK_TEST, "jest" },
	{ "pytest", SK_TEST, "pytest" },
	{ "JUnit", SK_TEST, "junit" },
	{ "Playwright", SK_TEST, "playwright" },
	{ "Quality Assurance", SK_TEST, "quality assurance|?qa" },
	{ "iOS", SK_WEB, "ios" },
	{ "Android", SK_WEB, "android" },
	{ "SwiftUI", SK_WEB, "swiftui" },
	{ "Agile", SK_METHOD, "agile" },
	{ "Scrum", SK_METHOD, "scrum|scrum master" },
	{ "Kanban", SK_METHOD, "kanban" },
	{ "DevOps", SK_METHOD, "devops" },
	{ "Lean", SK_METHOD, "?lean|lean six sigma|six sigma" },
	{ "Design Patterns", SK_METHOD, "design patterns" },
	{ "OOP", SK_METHOD,
	    "oop|object oriented|object oriented programming" },
	{ "Functional Programming", SK_METHOD, "functional programming" },
	{ "System Design", SK_METHOD, "system design|systems design" },
	{ "Distributed Systems", SK_METHOD,
	    "distributed systems|distributed computing" },
	{ "Data Structures", SK_METHOD, "data structures|algorithms" },
	{ "Code Review", SK_METHOD, "code review|code reviews" },
	{ "Embedded Systems", SK_METHOD,
	    "embedded systems|embedded software|firmware" },
	{ "RTOS", SK_METHOD, "rtos|freertos" },
	{ "FPGA", SK_METHOD, "fpga|verilog|vhdl" },
	{ "Blockchain", SK_METHOD, "blockchain|web3" },
	{ "Unity", SK_METHOD, "unity3d|?unity" },
	{ "Unreal Engine", SK_METHOD, "unreal engine|unreal" },
	{ "GDPR", SK_METHOD, "gdpr" },
	{ "Figma", SK_DESIGN, "figma" },
	{ "Sketch", SK_DESIGN, "?sketch" },
	{ "Photoshop", SK_DESIGN, "photoshop|adobe photoshop" },
	{ "Illustrator", SK_DESIGN, "adobe illustrator|?illustrator" },
	{ "UX Design", SK_DESIGN, "ux|user experience|ux design|ux research" },
	{ "UI Design", SK_DESIGN,
	    "ui|ui design|user interface|user interfaces" },
	{ "Wireframing", SK_DESIGN, "wireframing|wireframes|prototyping" },
	{ "WordPress", SK_BIZ, "wordpress" },
	{ "Shopify", SK_BIZ, "shopify" },
	{ "Salesforce", SK_BIZ, "salesforce" },
	{ "SAP", SK_BIZ, "sap|sap erp|s/4hana" },
	{ "CRM", SK_BIZ, "crm|hubspot" },
	{ "SEO", SK_BIZ, "seo|search engine optimization" },
	{ "Google Analytics", SK_BIZ, "google analytics|ga4" },
	{ "Digital Marketing", SK_BIZ,
	    "digital marketing|sem|ppc|google ads" },
	{ "Accounting", SK_BIZ,
	    "accounting|gaap|accounts payable|accounts receivable" },
	{ "Bookkeeping", SK_BIZ, "bookkeeping" },
	{ "QuickBooks", SK_BIZ, "quickbooks" },
	{ "Financial Analysis", SK_BIZ,
	    "financial analysis|financial modeling|financial modelling" },
	{ "Budgeting", SK_BIZ, "budgeting|forecasting" },
	{ "Product Management", SK_BIZ, "product management|product manager" },
	{ "Technical Writing", SK_BIZ, "technical writing|documentation" },
	{ "Patient Care", SK_HEALTH, "patient care|patient-centered care" },
	{ "Nursing", SK_HEALTH, "nursing|registered nurse|rn|lpn" },
	{ "BLS", SK_HEALTH, "bls|basic life support" },
	{ "ACLS", SK_HEALTH, "acls|advanced cardiac life support" },
	{ "CPR", SK_HEALTH, "cpr" },
	{ "EHR", SK_HEALTH,
	    "ehr|emr|electronic health records|electronic health record|"
	    "electronic medical records" },
	{ "Epic", SK_HEALTH, "epic systems|?epic" },
	{ "Medication Administration", SK_HEALTH,
	    "medication administration|administering medications|"
	    "administer medications" },
	{ "Phlebotomy", SK_HEALTH, "phlebotomy" },
	{ "Triage", SK_HEALTH, "triage" },
	{ "IV Therapy", SK_HEALTH,
	    "iv therapy|iv insertion|intravenous therapy" },
	{ "Wound Care", SK_HEALTH, "wound care" },
	{ "Infection Control", SK_HEALTH,
	    "infection control|infection prevention" },
	{ "HIPAA", SK_HEALTH, "hipaa" },
	{ "Vital Signs", SK_HEALTH, "vital signs" },
	{ "Care Planning", SK_HEALTH, "care planning|care plans|care plan" },
	{ "Communication", SK_SOFT,
	    "communication|communication skills|communicator" },
	{ "Leadership", SK_SOFT, "leadership|team lead|tech lead" },
	{ "Teamwork", SK_SOFT,
	    "teamwork|collaboration|collaborative|cross-functional" },
	{ "Problem Solving", SK_SOFT, "problem solving|troubleshooting" },
	{ "Mentoring", SK_SOFT, "mentoring|mentorship|coaching" },
	{ "Project Management", SK_SOFT,
	    "project management|project manager|pmp" },
	{ "Stakeholder Management", SK_SOFT,
	    "stakeholder management|stakeholders" },
	{ "Time Management", SK_SOFT, "time management|prioritization" },
	{ "Critical Thinking", SK_SOFT,
	    "critical thinking|analytical skills" },
	{ "Customer Service", SK_SOFT, "customer service|customer support" },
	{ "Attention to Detail", SK_SOFT,
	    "attention to detail|detail oriented" },
	{ "Presentation Skills", SK_SOFT,
	    "presentation skills|public speaking|presentations" },
	{ "Negotiation", SK_SOFT, "negotiation" },
	{ "Adaptability", SK_SOFT, "adaptability|adaptable" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define NSKILLS		NELEM(skills)

/*
 * Common English words and job-posting filler, left out of the text
 * similarity.  Sorted in byte order (loc_selfcheck() verifies).
 */
static const char *const stopwords[] = {
	"a", "ability", "able", "about", "above", "across", "after", "again",
	"against", "all", "also", "am", "an", "and", "any", "applicant",
	"applicants", "apply", "are", "around", "as", "at", "be", "because",
	"been", "before", "being", "below", "benefits", "between", "both",
	"but", "by", "can", "candidate", "candidates", "career", "company",
	"competitive", "could", "d", "description", "did", "do", "does",
	"doing", "don", "done", "down", "during", "duties", "e.g", "each",
	"either", "environment", "equal", "etc", "even", "ever", "every",
	"excellent", "experience", "experienced", "familiarity", "few", "for",
	"from", "further", "get", "gets", "good", "great", "had", "has",
	"have", "having", "he", "help", "her", "here", "hers", "herself",
	"highly", "him", "himself", "his", "how", "i", "i.e", "ideal", "if",
	"in", "including", "into", "is", "it", "its", "itself", "job", "join",
	"just", "knowledge", "ll", "looking", "m", "may", "me", "might",
	"more", "most", "must", "my", "myself", "new", "no", "nor", "not",
	"now", "of", "off", "offer", "on", "once", "one", "only",
	"opportunity", "or", "other", "others", "our", "ours", "ourselves",
	"out", "over", "own", "per", "please", "plus", "position",
	"preferred", "qualifications", "re", "related", "required",
	"requirements", "responsibilities", "responsible", "role", "s",
	"salary", "same", "seeking", "shall", "she", "should", "so", "some",
	"strong", "successful", "such", "t", "team", "teams", "than", "that",
	"the", "their", "theirs", "them", "themselves", "then", "there",
	"these", "they", "this", "those", "through", "to", "too", "under",
	"until", "up", "upon", "us", "using", "various", "ve", "very", "via",
	"want", "was", "we", "well", "were", "what", "when", "where",
	"whether", "which", "while", "who", "whom", "whose", "why", "will",
	"with", "within", "without", "work", "working", "would", "year",
	"years", "yet", "you", "your", "yours", "yourself", "yourselves",
};

/*
 * Words that make an ambiguous alias count as a skill ("Go developer",
 * "languages: R, C").  Sorted in byte order.
 */
static const char *const ctxwords[] = {
	"backend", "code", "coding", "developer", "developers", "development",
	"engineer", "engineers", "framework", "frameworks", "frontend",
	"language", "languages", "libraries", "library", "proficiency",
	"proficient", "programmer", "programming", "scripting", "skills",
	"software", "stack", "tech", "technologies", "technology", "toolkit",
	"tools",
};

static const char *const errs[LOC__MAX] = {
	"success",				/* LOC_OK */
	"out of memory",			/* LOC_ERR_NOMEM */
	"skill dictionary is malformed",	/* LOC_ERR_DICT */
};

/* Score weights and the similarity scale; see docs/local-engine.md. */
#define W_SKILLS	0.65	/* share of the score from skill coverage */
#define W_TEXT		0.35	/* share from text similarity */
#define SIM_SCALE	0.2	/* text = 1 - exp(-cosine / SIM_SCALE) */
#define W_SOFT		0.5	/* weight of a soft skill in the coverage */

/* Fit words by score band, highest first. */
static const struct band {
	int		 min;	/* lowest score of the band */
	const char	*word;
} bands[] = {
	{ 80, "Excellent fit." },
	{ 65, "Strong fit." },
	{ 50, "Good fit." },
	{ 35, "Partial fit." },
	{ 20, "Weak fit." },
	{ 0, "Poor fit." },
};

#define DOC_RESUME	0
#define DOC_JOB		1

/* Term flags. */
#define T_STOP		0x01	/* in stopwords[] */
#define T_CTX		0x02	/* in ctxwords[] */
#define T_SIM		0x04	/* counts in the similarity */

#define NO_TERM		UINT32_MAX
#define LISTWORD_MAX	16	/* longest word of stopwords[], ctxwords[] */
#define TABLE_MIN	1024	/* initial slots of the term table */
/* A slot: the high half of the hash, to skip most mismatches without
 * touching the term, and the term index + 1 (0 is a free slot). */
#define SLOT(h, i)	(((h) >> 32 << 32) | (uint64_t)((i) + 1))

struct term {
	const unsigned char *p;		/* bytes, borrowed from a text */
	uint32_t	 len;		/* bytes */
	uint32_t	 tf[2];		/* occurrences in resume, job */
	int32_t		 alias;		/* first alias that starts here, -1 */
	uint32_t	 flags;		/* T_* */
	uint64_t	 hash;
};

struct tok {
	uint32_t	 term;		/* index in state.terms */
	uint32_t	 sent;		/* sentence number in its text */
};

struct doc {
	struct tok	*tok;		/* owned */
	size_t		 n;		/* tokens used */
	size_t		 cap;		/* tokens allocated */
};

struct alias {
	uint32_t	 term[LOC_ALIAS_TOKENS_MAX]; /* word sequence */
	uint32_t	 ntok;		/* words in term[] */
	uint32_t	 skill;		/* index in skills[] */
	int32_t		 next;		/* next alias, same first word */
	int		 amb;		/* needs a skill context */
};

struct hit {
	uint32_t	 pos;		/* first token */
	uint32_t	 end;		/* one past the last token */
	uint32_t	 skill;		/* index in skills[] */
	int		 amb;		/* from an ambiguous alias */
	int		 ok;		/* counts (after accept_hits()) */
};

/* Everything one loc_score() call allocates. */
struct state {
	unsigned char	*text[2];	/* owned lowercased resume, job */
	size_t		 textlen[2];
	struct term	*terms;		/* owned, insertion order */
	size_t		 nterms;
	size_t		 capterms;
	uint64_t	*slots;		/* owned; hash >> 32 << 32 | index + 1 */
	size_t		 nslots;	/* power of two */
	uint64_t	 seed;		/* hash seed, see table_init() */
	struct doc	 doc[2];	/* resume, job */
	struct alias	*alias;		/* owned */
	size_t		 nalias;
	struct hit	*hit;		/* owned; hits of one text */
	size_t		 nhit;
	size_t		 caphit;
	unsigned char	*inresume;	/* owned; NSKILLS flags */
	unsigned char	*injob;		/* owned; NSKILLS flags */
	uint32_t	*jobskill;	/* owned; job skills in order */
	size_t		 njobskill;
};

static int
is_word(unsigned char c)
{

	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/*
 * Length of a UTF-8 punctuation sequence at s[0..n) that separates words
 * (no-break space, the spaces, dashes, quotes, bullets and ellipsis of
 * U+2000..U+202F, the geometric shapes U+25A0..U+25FF used as bullets,
 * the Symbol-font bullet U+F0B7 and the BOM), or 0.
 */
static size_t
utf8_sep(const unsigned char *s, size_t n)
{
	unsigned char	 c;

	if (n >= 2 && s[0] == 0xc2 && s[1] == 0xa0)
		return 2;
	if (n < 3)
		return 0;
	c = s[2];
	if (s[0] == 0xe2 && s[1] == 0x80 && c >= 0x80 && c <= 0xaf)
		return 3;
	if (s[0] == 0xe2 && (s[1] == 0x96 || s[1] == 0x97) &&
	    c >= 0x80 && c <= 0xbf && (s[1] == 0x97 || c >= 0xa0))
		return 3;
	if (s[0] == 0xef && s[1] == 0x82 && c == 0xb7)
		return 3;
	if (s[0] == 0xef && s[1] == 0xbb && c == 0xbf)
		return 3;
	return 0;
}

/* Copy src[0..n) to dst, lowercasing ASCII and blanking utf8_sep(). */
static void
lower_copy(unsigned char *dst, const unsigned char *src, size_t n)
{
	size_t	 i, k;

	for (i = 0; i < n; ) {
		if (src[i] >= 0x80) {
			k = utf8_sep(src + i, n - i);
			if (k > 0) {
				memset(dst + i, ' ', k);
				i += k;
				continue;
			}
		}
		if (src[i] >= 'A' && src[i] <= 'Z')
			dst[i] = (unsigned char)(src[i] - 'A' + 'a');
		else
			dst[i] = src[i];
		i++;
	}
}

/*
 * The tokenizer over lowercased text s[0..n), resuming at *pos.  Returns 1
 * with the word at s[*start..*start + *len) and *brk set when a sentence
 * ended since the previous word, or 0 at the end.  Grammar:
 *   word  = [.]? wc (wc | "." wc)* [+#]*     wc = [a-z0-9] | %x80-FF
 * where the leading "." needs a letter after it and a non-word before it
 * (.net); a sentence ends at . ! ? ; outside a word, or at a blank line.
 */
static int
lex_next(const unsigned char *s, size_t n, size_t *pos, size_t *start,
    size_t *len, int *brk)
{
	size_t		 i;
	int		 nl;
	unsigned char	 c;

	*brk = 0;
	nl = 0;
	for (i = *pos; i < n; i++) {
		c = s[i];
		if (is_word(c))
			break;
		if (c == '.' && i + 1 < n && s[i + 1] >= 'a' &&
		    s[i + 1] <= 'z')
			break;
		if (c == '.' || c == '!' || c == '?' || c == ';')
			*brk = 1;
		else if (c == '\n') {
			if (++nl >= 2)
				*brk = 1;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\f' &&
		    c != '\v')
			nl = 0;
	}
	if (i >= n) {
		*pos = n;
		return 0;
	}
	*start = i++;
	while (i < n) {
		c = s[i];
		if (is_word(c)) {
			i++;
			continue;
		}
		if (c == '.' && i + 1 < n && is_word(s[i + 1])) {
			i++;
			continue;
		}
		while (i < n && (s[i] == '+' || s[i] == '#'))
			i++;
		break;
	}
	*len = i - *start;
	*pos = i;
	return 1;
}

/* Order of p[0..len) against the C string w, as strcmp() would give. */
static int
wordcmp(const unsigned char *p, size_t len, const char *w)
{
	const unsigned char	*u = (const unsigned char *)w;
	size_t			 i;

	for (i = 0; i < len && u[i] != '\0'; i++)
		if (p[i] != u[i])
			return p[i] < u[i] ? -1 : 1;
	if (i < len)
		return 1;
	return u[i] == '\0' ? 0 : -1;
}

/* Whether p[0..len) is in the sorted list l[0..n). */
static int
inlist(const unsigned char *p, size_t len, const char *const *l, size_t n)
{
	size_t	 lo, hi, mid;
	int	 r;

	lo = 0;
	hi = n;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = wordcmp(p, len, l[mid]);
		if (r == 0)
			return 1;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static uint32_t
term_flags(const unsigned char *p, size_t len)
{
	uint32_t	 f;
	size_t		 i;
	int		 letter;

	f = 0;
	if (len <= LISTWORD_MAX && p[0] < 0x80) {
		if (inlist(p, len, stopwords, NELEM(stopwords)))
			f |= T_STOP;
		if (inlist(p, len, ctxwords, NELEM(ctxwords)))
			f |= T_CTX;
	}
	letter = 0;
	for (i = 0; i < len && !letter; i++)
		letter = (p[i] >= 'a' && p[i] <= 'z') || p[i] >= 0x80;
	if (!(f & T_STOP) && len >= 2 && letter)
		f |= T_SIM;
	return f;
}

/*
 * FNV-1a with a seed, then the splitmix64 finaliser so the low bits that
 * pick the slot depend on every input bit.
 */
static uint64_t
hash_bytes(uint64_t seed, const unsigned char *p, size_t len)
{
	uint64_t	 h;
	size_t		 i;

	h = 0xcbf29ce484222325ULL ^ seed;
	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* Make room for need elements of size sz in *p of capacity *cap. */
static enum loc_status
grow(void **p, size_t *cap, size_t need, size_t sz)
{
	size_t	 ncap;
	void	*np;

	if (need <= *cap)
		return LOC_OK;
	ncap = *cap ? *cap : 64;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return LOC_ERR_NOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / sz)
		return LOC_ERR_NOMEM;
	np = realloc(*p, ncap * sz);
	if (np == NULL)
		return LOC_ERR_NOMEM;
	*p = np;
	*cap = ncap;
	return LOC_OK;
}

/*
 * The slot array starts at TABLE_MIN slots.  The seed mixes in the
 * addresses of this call's allocations, which ASLR varies, so that a text
 * crafted to collide in one process is unlikely to collide in another.
 * The output never depends on it: terms are numbered and summed in
 * insertion order.
 */
static enum loc_status
table_init(struct state *st)
{

	st->nslots = TABLE_MIN;
	st->slots = calloc(st->nslots, sizeof(st->slots[0]));
	if (st->slots == NULL)
		return LOC_ERR_NOMEM;
	st->seed = (uint64_t)(uintptr_t)st->slots ^
	    ((uint64_t)(uintptr_t)st << 21) ^ 0x9e3779b97f4a7c15ULL;
	return LOC_OK;
}

static enum loc_status
table_grow(struct state *st)
{
	uint64_t	*ns;
	size_t		 nn, i, j, mask;

	if (st->nslots > SIZE_MAX / 2 / sizeof(ns[0]))
		return LOC_ERR_NOMEM;
	nn = st->nslots * 2;
	ns = calloc(nn, sizeof(ns[0]));
	if (ns == NULL)
		return LOC_ERR_NOMEM;
	mask = nn - 1;
	for (i = 0; i < st->nterms; i++) {
		j = (size_t)st->terms[i].hash & mask;
		while (ns[j] != 0)
			j = (j + 1) & mask;
		ns[j] = SLOT(st->terms[i].hash, i);
	}
	free(st->slots);
	st->slots = ns;
	st->nslots = nn;
	return LOC_OK;
}

/*
 * Find the term p[0..len); with add, create it when missing.  *idx gets
 * its index, or NO_TERM when it is missing and add is 0.
 */
static enum loc_status
intern(struct state *st, const unsigned char *p, size_t len, int add,
    uint32_t *idx)
{
	struct term	*t;
	uint64_t	 h;
	size_t		 j, mask;
	uint32_t	 i;
	enum loc_status	 rc;

	h = hash_bytes(st->seed, p, len);
	mask = st->nslots - 1;
	for (j = (size_t)h & mask; st->slots[j] != 0; j = (j + 1) & mask) {
		if ((st->slots[j] ^ h) >> 32 != 0)
			continue;
		i = (uint32_t)st->slots[j] - 1;
		t = &st->terms[i];
		if (t->hash == h && t->len == len &&
		    memcmp(t->p, p, len) == 0) {
			*idx = i;
			return LOC_OK;
		}
	}
	if (!add) {
		*idx = NO_TERM;
		return LOC_OK;
	}
	rc = grow((void **)&st->terms, &st->capterms, st->nterms + 1,
	    sizeof(st->terms[0]));
	if (rc != LOC_OK)
		return rc;
	t = &st->terms[st->nterms];
	t->p = p;
	t->len = (uint32_t)len;
	t->tf[0] = t->tf[1] = 0;
	t->alias = -1;
	t->flags = term_flags(p, len);
	t->hash = h;
	st->slots[j] = SLOT(h, st->nterms);
	*idx = (uint32_t)st->nterms;
	st->nterms++;
	if (st->nterms * 2 > st->nslots)
		return table_grow(st);
	return LOC_OK;
}

/* Tokenize text d into st->doc[d], counting term frequencies. */
static enum loc_status
scan(struct state *st, int d)
{
	const unsigned char	*s = st->text[d];
	struct doc		*doc = &st->doc[d];
	size_t			 n = st->textlen[d], pos, start, len;
	uint32_t		 t, sent;
	int			 brk;
	enum loc_status		 rc;

	pos = 0;
	sent = 0;
	while (lex_next(s, n, &pos, &start, &len, &brk)) {
		if (brk && doc->n > 0)
			sent++;
		rc = intern(st, s + start, len, 1, &t);
		if (rc != LOC_OK)
			return rc;
		rc = grow((void **)&doc->tok, &doc->cap, doc->n + 1,
		    sizeof(doc->tok[0]));
		if (rc != LOC_OK)
			return rc;
		doc->tok[doc->n].term = t;
		doc->tok[doc->n].sent = sent;
		doc->n++;
		st->terms[t].tf[d]++;
	}
	return LOC_OK;
}

/*
 * Call fn(arg, alias, len, amb) for each alias of skill k; stop at the
 * first nonzero return and return it.
 */
static int
each_alias(size_t k, int (*fn)(void *, const char *, size_t, int),
    void *arg)
{
	const char	*p, *e;
	int		 amb, r;

	for (p = skills[k].aliases; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, '|');
		if (e == NULL)
			e = p + strlen(p);
		amb = *p == '?';
		r = fn(arg, p + amb, (size_t)(e - p - amb), amb);
		if (r != 0)
			return r;
	}
	return 0;
}

struct alias_ctx {
	struct state	*st;
	size_t		 skill;
};

/* each_alias() callback: resolve one alias and chain it to its word. */
static int
add_alias(void *arg, const char *a, size_t alen, int amb)
{
	struct alias_ctx	*ac = arg;
	struct state		*st = ac->st;
	struct alias		*al;
	const unsigned char	*s = (const unsigned char *)a;
	size_t			 pos, start, len;
	uint32_t		 t, n;
	int			 brk;

	al = &st->alias[st->nalias];
	n = 0;
	pos = 0;
	while (lex_next(s, alen, &pos, &start, &len, &brk)) {
		if (n == LOC_ALIAS_TOKENS_MAX)
			return 0;
		/* Lookup only: the term table is complete, never grows. */
		if (intern(st, s + start, len, 0, &t) != LOC_OK ||
		    t == NO_TERM)
			return 0;
		al->term[n++] = t;
	}
	if (n == 0)
		return 0;
	al->ntok = n;
	al->skill = (uint32_t)ac->skill;
	al->amb = amb;
	al->next = st->terms[al->term[0]].alias;
	st->terms[al->term[0]].alias = (int32_t)st->nalias;
	st->nalias++;
	return 0;
}

/* Resolve every alias that can occur in either text. */
static enum loc_status
build_aliases(struct state *st)
{
	struct alias_ctx	 ac;
	const char		*p;
	size_t			 k, n;

	n = 0;
	for (k = 0; k < NSKILLS; k++) {
		n++;
		for (p = skills[k].aliases; *p != '\0'; p++)
			n += *p == '|';
	}
	st->alias = calloc(n, sizeof(st->alias[0]));
	if (st->alias == NULL)
		return LOC_ERR_NOMEM;
	ac.st = st;
	for (k = 0; k < NSKILLS; k++) {
		ac.skill = k;
		(void)each_alias(k, add_alias, &ac);
	}
	return LOC_OK;
}

/*
 * Find the skills in text d: at each word the longest alias that starts
 * there and stays in one sentence; matching resumes after it, so "react
 * native" is React Native and not React.
 */
static enum loc_status
find_hits(struct state *st, int d)
{
	const struct doc	*doc = &st->doc[d];
	const struct alias	*al;
	size_t			 i, k;
	int32_t			 a, best;
	uint32_t		 bestlen;
	enum loc_status		 rc;

	st->nhit = 0;
	for (i = 0; i < doc->n; ) {
		best = -1;
		bestlen = 0;
		for (a = st->terms[doc->tok[i].term].alias; a >= 0;
		    a = al->next) {
			al = &st->alias[a];
			if (al->ntok <= bestlen || al->ntok > doc->n - i)
				continue;
			for (k = 1; k < al->ntok; k++)
				if (doc->tok[i + k].term != al->term[k] ||
				    doc->tok[i + k].sent != doc->tok[i].sent)
					break;
			if (k == al->ntok) {
				best = a;
				bestlen = al->ntok;
			}
		}
		if (best < 0) {
			i++;
			continue;
		}
		rc = grow((void **)&st->hit, &st->caphit, st->nhit + 1,
		    sizeof(st->hit[0]));
		if (rc != LOC_OK)
			return rc;
		al = &st->alias[best];
		st->hit[st->nhit].pos = (uint32_t)i;
		st->hit[st->nhit].end = (uint32_t)(i + bestlen);
		st->hit[st->nhit].skill = al->skill;
		st->hit[st->nhit].amb = al->amb;
		st->hit[st->nhit].ok = !al->amb;
		st->nhit++;
		i += bestlen;
	}
	return LOC_OK;
}

/*
 * An ambiguous hit counts when, in the same sentence and with at most
 * LOC_CTX_WINDOW words between, there is an unambiguous hit or a word of
 * ctxwords[].  Hits are in text order and do not overlap, so each check
 * looks at a few neighbours only.
 */
static void
accept_hits(struct state *st, int d)
{
	const struct doc	*doc = &st->doc[d];
	struct hit		*h;
	size_t			 i, j, k, lo, hi;
	uint32_t		 sent;

	for (i = 0; i < st->nhit; i++) {
		h = &st->hit[i];
		if (!h->amb)
			continue;
		sent = doc->tok[h->pos].sent;
		for (j = i; j > 0 && !h->ok; j--) {
			if (st->hit[j - 1].end + LOC_CTX_WINDOW < h->pos)
				break;
			if (!st->hit[j - 1].amb &&
			    doc->tok[st->hit[j - 1].pos].sent == sent)
				h->ok = 1;
		}
		for (j = i + 1; j < st->nhit && !h->ok; j++) {
			if (st->hit[j].pos > h->end + LOC_CTX_WINDOW)
				break;
			if (!st->hit[j].amb &&
			    doc->tok[st->hit[j].pos].sent == sent)
				h->ok = 1;
		}
		lo = h->pos > LOC_CTX_WINDOW ? h->pos - LOC_CTX_WINDOW - 1 : 0;
		hi = h->end + LOC_CTX_WINDOW + 1;
		if (hi > doc->n)
			hi = doc->n;
		for (k = lo; k < hi && !h->ok; k++) {
			if (k >= h->pos && k < h->end)
				continue;
			if (doc->tok[k].sent == sent &&
			    (st->terms[doc->tok[k].term].flags & T_CTX))
				h->ok = 1;
		}
	}
}

/* Record the skills of the resume, then those of the job in order. */
static enum loc_status
find_skills(struct state *st)
{
	size_t		 i;
	uint32_t	 k;
	enum loc_status	 rc;

	st->inresume = calloc(NSKILLS, 1);
	st->injob = calloc(NSKILLS, 1);
	st->jobskill = calloc(NSKILLS, sizeof(st->jobskill[0]));
	if (st->inresume == NULL || st->injob == NULL ||
	    st->jobskill == NULL)
		return LOC_ERR_NOMEM;
	rc = find_hits(st, DOC_RESUME);
	if (rc != LOC_OK)
		return rc;
	accept_hits(st, DOC_RESUME);
	for (i = 0; i < st->nhit; i++)
		if (st->hit[i].ok)
			st->inresume[st->hit[i].skill] = 1;
	rc = find_hits(st, DOC_JOB);
	if (rc != LOC_OK)
		return rc;
	accept_hits(st, DOC_JOB);
	for (i = 0; i < st->nhit; i++) {
		k = st->hit[i].skill;
		if (!st->hit[i].ok || st->injob[k])
			continue;
		st->injob[k] = 1;
		st->jobskill[st->njobskill++] = k;
	}
	return LOC_OK;
}

/*
 * Cosine of the two texts' vectors of 1 + ln(tf) over T_SIM terms, in
 * 0..1; 0 when either text has no such term.
 */
static double
similarity(const struct state *st)
{
	double		 dot, nr, nj, a, b, c;
	size_t		 i;

	dot = nr = nj = 0.0;
	for (i = 0; i < st->nterms; i++) {
		if (!(st->terms[i].flags & T_SIM))
			continue;
		a = st->terms[i].tf[DOC_RESUME] ?
		    1.0 + log((double)st->terms[i].tf[DOC_RESUME]) : 0.0;
		b = st->terms[i].tf[DOC_JOB] ?
		    1.0 + log((double)st->terms[i].tf[DOC_JOB]) : 0.0;
		dot += a * b;
		nr += a * a;
		nj += b * b;
	}
	if (nr <= 0.0 || nj <= 0.0)
		return 0.0;
	c = dot / sqrt(nr * nj);
	if (c < 0.0)
		c = 0.0;
	if (c > 1.0)
		c = 1.0;
	return c;
}

static void
state_free(struct state *st)
{

	free(st->text[0]);
	free(st->text[1]);
	free(st->terms);
	free(st->slots);
	free(st->doc[0].tok);
	free(st->doc[1].tok);
	free(st->alias);
	free(st->hit);
	free(st->inresume);
	free(st->injob);
	free(st->jobskill);
	memset(st, 0, sizeof(*st));
}

/*
 * Append ", "-separated names of the job skills whose resume flag equals
 * want, at most LOC_SUMMARY_SKILLS, then " and N more".
 */
static enum buf_status
add_list(struct buf *b, const struct state *st, int want)
{
	size_t		 i, shown, total;
	enum buf_status	 rc;

	shown = total = 0;
	for (i = 0; i < st->njobskill; i++) {
		if (st->inresume[st->jobskill[i]] != want)
			continue;
		total++;
		if (shown == LOC_SUMMARY_SKILLS)
			continue;
		rc = buf_printf(b, "%s%s", shown ? ", " : "",
		    skills[st->jobskill[i]].name);
		if (rc != BUF_OK)
			return rc;
		shown++;
	}
	if (total > shown)
		return buf_printf(b, " and %zu more", total - shown);
	return BUF_OK;
}

/* Similarity as "0.42" without printf's locale-dependent point. */
static enum buf_status
add_sim(struct buf *b, double sim)
{
	long	 h;

	h = lround(sim * 100.0);
	return buf_printf(b, "%ld.%02ld", h / 100, h % 100);
}

static enum buf_status
summary(struct buf *b, const struct state *st, size_t nmatched,
    int empty, double sim, int score)
{
	size_t		 nj = st->njobskill, i;
	enum buf_status	 rc;

	rc = buf_adds(b, "Local lexical match (no LLM): ");
	if (rc != BUF_OK)
		return rc;
	if (empty) {
		rc = buf_adds(b, "the resume is empty, so nothing could be "
		    "matched");
		if (rc == BUF_OK && nj > 0) {
			rc = buf_printf(b, "; the posting names %zu skill%s (",
			    nj, nj == 1 ? "" : "s");
			if (rc == BUF_OK)
				rc = add_list(b, st, 0);
			if (rc == BUF_OK)
				rc = buf_adds(b, ")");
		}
		if (rc == BUF_OK)
			rc = buf_adds(b, ". No fit.");
		return rc;
	}
	if (nj == 0) {
		rc = buf_adds(b, "the posting names no skill this engine "
		    "knows, so the score rests on text similarity alone (");
		if (rc == BUF_OK)
			rc = add_sim(b, sim);
		if (rc == BUF_OK)
			rc = buf_adds(b, ").");
	} else {
		if (nmatched == nj && nj == 1)
			rc = buf_adds(b, "the resume covers the one skill the "
			    "posting names (");
		else if (nmatched == nj)
			rc = buf_printf(b, "the resume covers all %zu skills "
			    "the posting names (", nj);
		else if (nmatched == 0)
			rc = buf_printf(b, "the resume covers none of the "
			    "%zu skill%s the posting names", nj,
			    nj == 1 ? "" : "s");
		else
			rc = buf_printf(b, "the resume covers %zu of %zu "
			    "skills the posting names (", nmatched, nj);
		if (rc == BUF_OK && nmatched > 0)
			rc = add_list(b, st, 1);
		if (rc == BUF_OK && nmatched > 0)
			rc = buf_adds(b, ")");
		if (rc == BUF_OK && nmatched < nj) {
			rc = buf_adds(b, "; missing: ");
			if (rc == BUF_OK)
				rc = add_list(b, st, 0);
		}
		if (rc == BUF_OK)
			rc = buf_adds(b, ". Text similarity ");
		if (rc == BUF_OK)
			rc = add_sim(b, sim);
		if (rc == BUF_OK)
			rc = buf_adds(b, ".");
	}
	if (rc != BUF_OK)
		return rc;
	for (i = 0; bands[i].min > score; i++)
		continue;
	return buf_printf(b, " %s", bands[i].word);
}

/* A JSON array of the names of the job skills with resume flag want. */
static enum loc_status
skill_array(const struct state *st, int want, struct json_object **out)
{
	struct json_object	*arr, *s;
	size_t			 i, n;

	*out = NULL;
	arr = json_object_new_array();
	if (arr == NULL)
		return LOC_ERR_NOMEM;
	n = 0;
	for (i = 0; i < st->njobskill && n < ANS_SKILLS_MAX; i++) {
		if (st->inresume[st->jobskill[i]] != want)
			continue;
		s = json_object_new_string(skills[st->jobskill[i]].name);
		if (s == NULL)
			goto err;
		if (json_object_array_add(arr, s) != 0) {
			json_object_put(s);
			goto err;
		}
		n++;
	}
	*out = arr;
	return LOC_OK;
err:
	json_object_put(arr);
	return LOC_ERR_NOMEM;
}

/* Copy text[0..n) lowercased into st->text[d]; NULL stays empty. */
static enum loc_status
load(struct state *st, int d, const char *a, size_t alen, const char *b,
    size_t blen)
{
	size_t	 n;

	n = alen + (blen > 0 ? 2 + blen : 0);
	if (n == 0)
		return LOC_OK;
	st->text[d] = malloc(n);
	if (st->text[d] == NULL)
		return LOC_ERR_NOMEM;
	lower_copy(st->text[d], (const unsigned char *)a, alen);
	if (blen > 0) {
		/* The blank line keeps the title a sentence of its own. */
		memcpy(st->text[d] + alen, "\n\n", 2);
		lower_copy(st->text[d] + alen + 2,
		    (const unsigned char *)b, blen);
	}
	st->textlen[d] = n;
	return LOC_OK;
}

enum loc_status
loc_score(const char *resume, size_t resume_len, const char *jobtitle,
    const char *jobdata, size_t jobdata_len, struct answer *out)
{
	struct state		 st;
	struct buf		 b;
	struct json_object	*matched = NULL, *missing = NULL;
	char			*sum = NULL;
	size_t			 tlen, i, nmatched;
	double			 sim, wall, whave, w, text, raw;
	int			 score, empty;
	enum loc_status		 rc;

	memset(&st, 0, sizeof(st));
	buf_init(&b, LOC_SUMMARY_MAX);
	if (resume == NULL)
		resume_len = 0;
	if (jobdata == NULL)
		jobdata_len = 0;
	if (jobtitle == NULL)
		jobtitle = "";
	if (resume_len > LOC_TEXT_MAX)
		resume_len = LOC_TEXT_MAX;
	if (jobdata_len > LOC_TEXT_MAX)
		jobdata_len = LOC_TEXT_MAX;
	for (tlen = 0; tlen < LOC_TEXT_MAX && jobtitle[tlen] != '\0'; tlen++)
		continue;

	rc = load(&st, DOC_RESUME, resume, resume_len, NULL, 0);
	if (rc == LOC_OK)
		rc = load(&st, DOC_JOB, jobtitle, tlen, jobdata, jobdata_len);
	if (rc == LOC_OK)
		rc = table_init(&st);
	if (rc == LOC_OK)
		rc = scan(&st, DOC_RESUME);
	if (rc == LOC_OK)
		rc = scan(&st, DOC_JOB);
	if (rc == LOC_OK)
		rc = build_aliases(&st);
	if (rc == LOC_OK)
		rc = find_skills(&st);
	if (rc != LOC_OK)
		goto err;

	nmatched = 0;
	wall = whave = 0.0;
	for (i = 0; i < st.njobskill; i++) {
		w = skills[st.jobskill[i]].kind == SK_SOFT ? W_SOFT : 1.0;
		wall += w;
		if (st.inresume[st.jobskill[i]]) {
			whave += w;
			nmatched++;
		}
	}
	sim = similarity(&st);
	text = 1.0 - exp(-sim / SIM_SCALE);
	empty = st.doc[DOC_RESUME].n == 0;
	if (empty)
		raw = 0.0;
	else if (st.njobskill == 0)
		raw = 100.0 * text;
	else
		raw = 100.0 * (W_SKILLS * whave / wall + W_TEXT * text);
	score = (int)lround(raw);
	if (score < 0)
		score = 0;
	if (score > 100)
		score = 100;

	if (summary(&b, &st, nmatched, empty, sim, score) != BUF_OK ||
	    buf_take(&b, &sum, NULL) != BUF_OK) {
		rc = LOC_ERR_NOMEM;
		goto err;
	}
	rc = skill_array(&st, 1, &matched);
	if (rc == LOC_OK)
		rc = skill_array(&st, 0, &missing);
	if (rc != LOC_OK)
		goto err;

	out->score = score;
	out->summary = sum;
	out->matched_skills = matched;
	out->missing_skills = missing;
	state_free(&st);
	return LOC_OK;
err:
	if (matched != NULL)
		json_object_put(matched);
	free(sum);
	buf_free(&b);
	state_free(&st);
	return rc;
}

/* Whether l[0..n) is strictly ascending, ASCII, at most LISTWORD_MAX. */
static int
sorted(const char *const *l, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (strlen(l[i]) > LISTWORD_MAX ||
		    (unsigned char)l[i][0] >= 0x80)
			return 0;
		if (i > 0 && strcmp(l[i - 1], l[i]) >= 0)
			return 0;
	}
	return 1;
}

/* An alias as its words joined by one space, for loc_selfcheck(). */
struct norm {
	char		 s[LOC_ALIAS_TOKENS_MAX * 32]; /* the words */
	uint32_t	 skill;		/* index in skills[] */
};

struct check_ctx {
	struct norm	*norm;		/* aliases seen so far */
	size_t		 n;
	size_t		 skill;
};

/* each_alias() callback: 1 when the alias is malformed or taken. */
static int
check_alias(void *arg, const char *a, size_t alen, int amb)
{
	struct check_ctx	*cc = arg;
	struct norm		*nm = &cc->norm[cc->n];
	const unsigned char	*s = (const unsigned char *)a;
	size_t			 pos, start, len, ntok, used, i;
	int			 brk;

	(void)amb;
	ntok = used = 0;
	pos = 0;
	while (lex_next(s, alen, &pos, &start, &len, &brk)) {
		if (++ntok > LOC_ALIAS_TOKENS_MAX ||
		    used + len + 2 > sizeof(nm->s))
			return 1;
		if (used > 0)
			nm->s[used++] = ' ';
		memcpy(nm->s + used, s + start, len);
		used += len;
	}
	if (ntok == 0)
		return 1;
	nm->s[used] = '\0';
	for (i = 0; i < alen; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return 1;
	for (i = 0; i < cc->n; i++)
		if (strcmp(cc->norm[i].s, nm->s) == 0 &&
		    cc->norm[i].skill != cc->skill)
			return 1;
	nm->skill = (uint32_t)cc->skill;
	cc->n++;
	return 0;
}

enum loc_status
loc_selfcheck(void)
{
	struct check_ctx	 cc;
	const char		*p;
	size_t			 k, n;
	int			 bad;

	if (!sorted(stopwords, NELEM(stopwords)) ||
	    !sorted(ctxwords, NELEM(ctxwords)))
		return LOC_ERR_DICT;
	n = 0;
	for (k = 0; k < NSKILLS; k++) {
		n++;
		for (p = skills[k].aliases; *p != '\0'; p++)
			n += *p == '|';
	}
	cc.norm = calloc(n, sizeof(cc.norm[0]));
	if (cc.norm == NULL)
		return LOC_ERR_NOMEM;
	cc.n = 0;
	bad = 0;
	for (k = 0; k < NSKILLS && !bad; k++) {
		cc.skill = k;
		bad = skills[k].name[0] == '\0' ||
		    skills[k].aliases[0] == '\0' ||
		    each_alias(k, check_alias, &cc) != 0;
		for (n = 0; n < k && !bad; n++)
			bad = strcmp(skills[n].name, skills[k].name) == 0;
	}
	free(cc.norm);
	return bad ? LOC_ERR_DICT : LOC_OK;
}

const char *
loc_strerror(enum loc_status st)
{

	if ((unsigned)st >= LOC__MAX)
		return "unknown error";
	return errs[st];
}
