-- Databases of the Matrix side (C collation, as Synapse requires).
CREATE DATABASE synapse ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0 OWNER matrix;
CREATE DATABASE mautrix_whatsapp OWNER matrix;
